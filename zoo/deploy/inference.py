"""The four kinds of inference in one namespace (``zoo.inference``): batch, streaming, edge and cloud.

Batch and streaming are :mod:`zoo.deploy.streaming`; edge (LiteRT) and cloud
(SavedModel) runtimes are :mod:`zoo.deploy.runtimes`.
"""

from zoo.deploy.runtimes import KerasRunner, LiteRTModel, SavedModelRunner, load
from zoo.deploy.streaming import Stream, StreamResult, batch_predict, stream

__all__ = ["batch_predict", "Stream", "StreamResult", "stream", "LiteRTModel", "SavedModelRunner", "KerasRunner",
           "load"]
