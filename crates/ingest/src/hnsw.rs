//! An HNSW graph over a snapshot's vectors through usearch (feature `hnsw`).

use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::error::Error;

/// The graph; keys are positions in the snapshot's chunk list.
pub(crate) struct Hnsw {
    index: Index,
}

impl std::fmt::Debug for Hnsw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hnsw").field("size", &self.index.size()).finish()
    }
}

fn fail(e: impl std::fmt::Display) -> Error {
    Error::Index { reason: e.to_string() }
}

impl Hnsw {
    /// Adds every `dim`-sized row of `vectors` under its row number.
    pub(crate) fn build(vectors: &[f32], dim: usize) -> Result<Self, Error> {
        let options = IndexOptions {
            dimensions: dim,
            metric: MetricKind::Cos,
            quantization: ScalarKind::F32,
            connectivity: 16,
            expansion_add: 128,
            expansion_search: 128,
            multi: false,
        };
        let index = Index::new(&options).map_err(fail)?;
        let rows = vectors.len() / dim.max(1);
        index.reserve(rows.max(1)).map_err(fail)?;
        for (i, row) in vectors.chunks_exact(dim).enumerate() {
            index.add(i as u64, row).map_err(fail)?;
        }
        Ok(Self { index })
    }

    /// The `k` nearest rows as (row, cosine similarity), best first.
    pub(crate) fn search(&self, q: &[f32], k: usize) -> Result<Vec<(usize, f32)>, Error> {
        let found = self.index.search(q, k).map_err(fail)?;
        Ok(found.keys.iter().zip(&found.distances).map(|(&key, &d)| (key as usize, 1.0 - d)).collect())
    }
}
