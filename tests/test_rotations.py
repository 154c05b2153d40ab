import numpy as np
from scipy.spatial.transform import Rotation

from gait.analysis.rotations import (
    euler_yxz,
    frame_from_up_forward,
    integrate_gyro,
    matrix_from_euler_yxz,
    quat_components_to_matrix,
)


def test_gyro_integration_matches_sequential_rotation_composition():
    rng = np.random.default_rng(1)
    gyr = rng.normal(0, 3.0, (5000, 3))
    dt = 1 / 208
    q = integrate_gyro(gyr, dt)
    ref = Rotation.identity()
    for k in range(1, 5000):
        ref = ref * Rotation.from_rotvec(0.5 * (gyr[k - 1] + gyr[k]) * dt)
        if k in (1, 17, 256, 4999):
            x, y, z, w = ref.as_quat()
            assert np.allclose(q[:, k], [w, x, y, z], atol=1e-9) or np.allclose(q[:, k], [-w, -x, -y, -z], atol=1e-9)


def test_integration_of_constant_rate_gives_expected_angle():
    gyr = np.tile([0.0, 0.0, np.pi], (1001, 1))  # half a turn per second about z
    r = quat_components_to_matrix(integrate_gyro(gyr, 1e-3))
    angle = np.degrees(np.arctan2(r[1, 0, -1], r[0, 0, -1]))
    assert abs(angle - 180.0) < 1e-6 or abs(angle + 180.0) < 1e-6


def test_euler_yxz_round_trip():
    rng = np.random.default_rng(2)
    a, b, c = rng.uniform(-1.2, 1.2, (3, 100))
    ra, rb, rc = euler_yxz(matrix_from_euler_yxz(a, b, c))
    assert np.allclose((ra, rb, rc), (a, b, c))
    ref = Rotation.from_euler("YXZ", np.column_stack((a, b, c))).as_matrix()
    assert np.allclose(matrix_from_euler_yxz(a, b, c), ref)


def test_frame_from_up_forward_is_right_handed_orthonormal():
    m = frame_from_up_forward(np.array([0.1, 9.7, 0.3]), np.array([1.0, 0.5, 0.2]))
    assert np.allclose(m.T @ m, np.eye(3))
    assert np.isclose(np.linalg.det(m), 1.0)
    assert np.allclose(np.cross(m[:, 0], m[:, 1]), m[:, 2])  # forward x up = right
