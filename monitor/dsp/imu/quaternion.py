"""Vectorized unit-quaternion algebra, (w, x, y, z) Hamilton convention.

Every function takes and returns arrays of shape (..., 4); they broadcast like numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def multiply(p: FloatArray, q: FloatArray) -> FloatArray:
    """Hamilton product p ⊗ q, shape (..., 4)."""
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=-1,
    )


def conjugate(q: FloatArray) -> FloatArray:
    """Conjugate (the inverse of a unit quaternion), shape (..., 4)."""
    conjugated: FloatArray = q * np.array([1.0, -1.0, -1.0, -1.0])
    return conjugated


def twist_angle_deg(q: FloatArray, axis: FloatArray) -> FloatArray:
    """Angle of the twist of ``q`` about ``axis`` (swing-twist decomposition), degrees.

    Parameters
    ----------
    q : ndarray, shape (..., 4)
        Unit quaternions.
    axis : ndarray, shape (3,)
        Unit vector, in the frame the rotations are expressed in.

    Returns
    -------
    ndarray, shape (...)
        Signed twist angle in (-180, 180], right-hand positive about ``axis``.
    """
    # Written out rather than ``q[..., 1:] @ axis``: a matrix product rounds differently
    # for different numbers of rows, and a stream cut into chunks must equal the batch.
    along: FloatArray = q[..., 1] * axis[0] + q[..., 2] * axis[1] + q[..., 3] * axis[2]
    angle: FloatArray = 2.0 * np.degrees(np.arctan2(along, q[..., 0]))
    return (angle + 180.0) % 360.0 - 180.0


def mean(q: FloatArray) -> FloatArray:
    """Average rotation of unit quaternions, shape (n, 4) -> (4,) (Markley et al. 2007,
    J Guid Control Dyn 30:1193: the principal eigenvector of the outer-product sum)."""
    _, vectors = np.linalg.eigh(q.T @ q)
    average: FloatArray = vectors[:, -1]
    return average if average[0] >= 0 else -average


def rotate(q: FloatArray, v: FloatArray) -> FloatArray:
    """Rotate vectors ``v`` (..., 3) by unit quaternions ``q`` (..., 4): q ⊗ v ⊗ q*."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    rotated: FloatArray = v + w * t + np.cross(u, t)
    return rotated


def about_z(angle_rad: FloatArray) -> FloatArray:
    """Quaternions of rotations by ``angle_rad`` (...) about the earth z axis, (..., 4)."""
    half = 0.5 * angle_rad
    zero = np.zeros_like(half)
    return np.stack([np.cos(half), zero, zero, np.sin(half)], axis=-1)
