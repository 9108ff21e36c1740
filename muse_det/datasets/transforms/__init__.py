from .formatting import PackInputs
from .processing import ClsRandomCrop

__all__ = ['PackInputs', 'ClsRandomCrop']
