"""External registries: DOI registration on Zenodo, and the status of cited sources on arXiv and Crossref."""
