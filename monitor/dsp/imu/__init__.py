"""IMU half of the DSP core: orientation, joint angle, range of motion, movement spasms.

Conventions used throughout: accelerometers in g (specific force, +1 g up at rest),
gyroscopes in deg/s, quaternions (w, x, y, z) Hamilton rotating sensor-frame vectors
into an earth frame with z up, times as UTC integer ns.
"""

import lazy_loader

# Submodules load on first use: `spasm-monitor status` need not wait for scipy or the BLE stack.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
