import importlib
import os
import pkgutil
import sys

import statefulsim

sys.path.insert(0, os.path.dirname(__file__))

# Hypothesis seeds its draws with constants it finds in the project's modules that are loaded
# when a test starts, so a derandomized property test would draw other examples depending on
# which tests ran before it (and imported, say, statefulsim.explore lazily). Loading every module
# of the package up front makes the examples the same in every order and every subset of files.
for _module in pkgutil.walk_packages(statefulsim.__path__, "statefulsim."):
    importlib.import_module(_module.name)
