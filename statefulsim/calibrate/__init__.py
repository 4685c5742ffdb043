"""Calibration: delay models fitted from what kubectl recorded on a real cluster (docs/calibrate.md).

Pure: parsed recordings in (:mod:`statefulsim.io.snapshots` reads the files), samples, fits and a
``timing:`` section out.
"""

from statefulsim.calibrate.estimate import ClaimTimes, ContainerTimes, EventTimes, Observations, PodTimes, Pull, Sample, estimate
from statefulsim.calibrate.fit import CRITERION, Fit, KeyFit, fit_key, fit_sample, timing_section

__all__ = ["CRITERION", "ClaimTimes", "ContainerTimes", "EventTimes", "Fit", "KeyFit", "Observations", "PodTimes", "Pull",
           "Sample", "estimate", "fit_key", "fit_sample", "timing_section"]
