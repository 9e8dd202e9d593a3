#!/usr/bin/env python3
"""The anchor of the `ingest/first-ingest-disk` benchmark: a first ingest of a folder of markdown files through
LangChain's indexing API, with its SQL record manager in a SQLite file on disk.

Each `*.md` file under the folder (sorted by relative path) is split with `MarkdownTextSplitter(chunk_size=1500,
chunk_overlap=0)`, its relative path as metadata `source`, and handed to `index()` with `cleanup="incremental"`,
`source_id_key="source"`, `batch_size=100` and `key_encoder="sha256"`. The vector store is LangChain's
`InMemoryVectorStore`; the embedder is a deterministic fake that counts calls, texts and UTF-8 bytes and returns
a 16-dimension vector from each text's SHA-256, so the time is LangChain's own bookkeeping, not a model.

Usage: langchain_ingest.py FOLDER DATABASE_FILE
Prints one JSON object: seconds for the split and for index() (imports and interpreter start excluded), the
index() result and the embedder's counts.
"""
import hashlib
import warnings
import json
import pathlib
import sys
import time

# langchain-community warns on import that it is being sunset; the record manager is still its.
warnings.filterwarnings("ignore", category=DeprecationWarning)

from langchain_community.indexes._sql_record_manager import SQLRecordManager
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.indexing import index
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_text_splitters import MarkdownTextSplitter


class CountingEmbedder(Embeddings):
    """Sixteen floats from a text's SHA-256; counts what it is asked to embed."""

    def __init__(self):
        self.calls = 0
        self.texts = 0
        self.bytes = 0

    @staticmethod
    def vector(text):
        digest = hashlib.sha256(text.encode()).digest()
        return [b / 255.0 for b in digest[:16]]

    def embed_documents(self, texts):
        self.calls += 1
        self.texts += len(texts)
        self.bytes += sum(len(t.encode()) for t in texts)
        return [self.vector(t) for t in texts]

    def embed_query(self, text):
        return self.vector(text)


def main():
    folder = pathlib.Path(sys.argv[1])
    database = pathlib.Path(sys.argv[2])
    started = time.perf_counter()
    splitter = MarkdownTextSplitter(chunk_size=1500, chunk_overlap=0)
    docs: list[Document] = []
    for path in sorted(folder.rglob("*.md")):
        source = path.relative_to(folder).as_posix()
        docs += splitter.create_documents([path.read_text()], metadatas=[{"source": source}])
    split_done = time.perf_counter()

    embedder = CountingEmbedder()
    store = InMemoryVectorStore(embedding=embedder)
    records = SQLRecordManager("rust-book", db_url=f"sqlite:///{database}")
    records.create_schema()
    result = index(
        docs,
        records,
        store,
        cleanup="incremental",
        source_id_key="source",
        batch_size=100,
        key_encoder="sha256",
    )
    index_done = time.perf_counter()
    print(
        json.dumps(
            {
                "split_s": split_done - started,
                "index_s": index_done - split_done,
                "chunks": len(docs),
                "result": result,
                "embed_calls": embedder.calls,
                "embed_texts": embedder.texts,
                "embed_bytes": embedder.bytes,
            }
        )
    )


if __name__ == "__main__":
    main()
