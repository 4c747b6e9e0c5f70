"""The shared data model, dataset formats and loaders, and the demo store generator."""

from catalog.dataset import Dataset
from catalog.errors import DataError
from catalog.models import EVENTS, Interaction, Product, UserHistory

__all__ = ["EVENTS", "DataError", "Dataset", "Interaction", "Product", "UserHistory"]
