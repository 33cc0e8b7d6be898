"""medkg: a knowledge graph and SPARQL endpoint of public medical AI datasets."""

__version__ = "0.1.0"
