"""The semantic visor: product text to embeddings in Chroma, plus BM25, fused into one search."""
