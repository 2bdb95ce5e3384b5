"""The start the PyTorch reference scripts share: BLAS and OpenMP thread settings, which must
precede `import torch`, then the imports, or one JSON error line naming what is missing."""

import importlib
import json
import os
import sys


def import_torch(threads, *modules):
    """Sets the thread counts, imports torch and `modules`, and returns them in that order.

    Pthread OpenBLAS ignores torch.set_num_threads, and busy-waiting OpenMP threads fight the
    BLAS threads on small machines, hence the environment before the import.

        torch, F = import_torch(2, "torch.nn.functional")
    """
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    names = ("torch",) + modules
    try:
        imported = [importlib.import_module(name) for name in names]
    except ImportError as error:
        print(json.dumps({"error": f"{', '.join(names)} not importable by {sys.executable}: {error}"}))
        sys.exit(1)
    imported[0].set_num_threads(threads)
    return imported
