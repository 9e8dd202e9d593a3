//! Embedders: the trait and the default deterministic feature-hashing embedder.

use crate::error::Error;

/// Turns texts into vectors. Every index version records the [`Embedder::id`] it was built with, and a query
/// through an embedder with another id is refused, so vectors of different models never mix.
///
/// Embedders are `Sync`: an ingest splits a large batch of texts between threads, one call of
/// [`Embedder::embed`] per part, unless [`Embedder::parallel_batches`] says not to.
pub trait Embedder: Sync {
    /// Model name and version, for example `hashing-v1/d256`; any change of output must change the id.
    fn id(&self) -> &str;
    /// The number of dimensions of every vector.
    fn dim(&self) -> usize;
    /// One L2-normalized vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error>;
    /// Whether an ingest may embed parts of a batch on several threads at once. The default is yes; an
    /// embedder that already spreads one call over every core (a model runtime with its own thread pool)
    /// returns false, so its calls run one after another.
    fn parallel_batches(&self) -> bool {
        true
    }
}

/// A deterministic feature-hashing embedder: lowercased words and character trigrams of each word are hashed
/// (FNV-1a, fixed seed) into `dim` buckets with a sign taken from another hash bit, weighted `1 + ln(tf)`,
/// and L2-normalized. No model, no download; similar wording gives similar vectors.
#[derive(Debug, Clone)]
pub struct HashingEmbedder {
    dim: usize,
    id: String,
}

impl HashingEmbedder {
    /// The default 256-dimension embedder.
    pub fn new() -> Self {
        Self::with_dim(256)
    }

    /// An embedder with `dim` buckets (at least 8).
    pub fn with_dim(dim: usize) -> Self {
        let dim = dim.max(8);
        Self { dim, id: format!("hashing-v1/d{dim}/w1c3") }
    }

    fn embed_one(&self, text: &str, features: &mut Vec<(u64, f32)>) -> Vec<f32> {
        features.clear();
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            features.push((fnv1a(b"w", word.as_bytes()), 1.0));
            // Trigrams of the word padded with boundary markers, so "parse" also matches "parsing".
            let padded: Vec<char> =
                std::iter::once('<').chain(word.chars()).chain(std::iter::once('>')).collect();
            let mut buf = [0u8; 12];
            for tri in padded.windows(3) {
                let mut n = 0;
                for c in tri {
                    n += c.encode_utf8(&mut buf[n..]).len();
                }
                features.push((fnv1a(b"c", &buf[..n]), 0.5));
            }
        }
        features.sort_unstable_by_key(|(h, _)| *h);
        let mut v = vec![0f32; self.dim];
        let mut i = 0;
        while i < features.len() {
            let (h, w) = features[i];
            let mut tf = 0u32;
            while i < features.len() && features[i].0 == h {
                tf += 1;
                i += 1;
            }
            let weight = w * (1.0 + (tf as f32).ln());
            let bucket = (h % self.dim as u64) as usize;
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            v[bucket] += sign * weight;
        }
        normalize_l2(&mut v);
        v
    }
}

impl Default for HashingEmbedder {
    fn default() -> Self {
        Self::new()
    }
}

impl Embedder for HashingEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        let mut features = Vec::new();
        Ok(texts.iter().map(|t| self.embed_one(t, &mut features)).collect())
    }
}

/// FNV-1a over a namespace tag and the bytes: fixed, so vectors are identical on every machine and run.
fn fnv1a(tag: &[u8], bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tag.iter().chain([0xffu8].iter()).chain(bytes) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // A final avalanche so the low bits (the bucket) and the top bit (the sign) are both well mixed.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// Scales a vector to unit length; a zero vector stays zero.
pub(crate) fn normalize_l2(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Dot product of two equally long vectors (cosine similarity for unit vectors).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent partial sums let the compiler keep them in one vector register; a single running
    // sum would force strict left-to-right float addition and no SIMD.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &str, b: &str) -> f32 {
        let e = HashingEmbedder::new();
        let v = e.embed(&[a, b]).expect("hashing never fails");
        dot(&v[0], &v[1])
    }

    #[test]
    fn deterministic_and_unit_length() {
        let e = HashingEmbedder::new();
        let a = e.embed(&["Ownership and borrowing"]).expect("ok");
        let b = e.embed(&["Ownership and borrowing"]).expect("ok");
        assert_eq!(a, b);
        assert!((dot(&a[0], &a[0]) - 1.0).abs() < 1e-5);
        assert_eq!(a[0].len(), 256);
    }

    #[test]
    fn similar_text_scores_higher() {
        assert!(
            cos("references and borrowing", "borrowing a reference")
                > cos("references and borrowing", "async await futures")
        );
    }

    #[test]
    fn empty_text_is_zero_vector() {
        let v = HashingEmbedder::with_dim(16).embed(&[""]).expect("ok");
        assert!(v[0].iter().all(|x| *x == 0.0));
    }

    #[test]
    fn id_names_dimension() {
        assert_eq!(HashingEmbedder::with_dim(64).id(), "hashing-v1/d64/w1c3");
    }
}
