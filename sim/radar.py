"""Single-scan radar detection physics, vectorized.

One look at a target is one Bernoulli trial with probability ``Pd``. This
module gives that probability for the classical square-law detector with a
threshold set by the false-alarm probability, for the Swerling target models
0 to 4, the inverse (the SNR needed for a given ``Pd``), the radar-equation
range scaling of SNR, and the maximum range of the monostatic radar equation.

All functions broadcast like numpy ufuncs: scalars or arrays in, the output
shape is the broadcast shape of the inputs, and 0-d results come back as
``numpy.float64``. SNR is per look (one pulse, or one look after whatever
integration the radar does before its detector), as a power ratio in dB.
"""
import numpy as np

__all__ = [
    "BOLTZMANN_J_PER_K",
    "SWERLING_CASES",
    "detection_probability",
    "required_snr_db",
    "snr_db_from_reference",
    "pd_from_reference",
    "radar_range_m",
]

#: Boltzmann constant [J/K] (exact, SI 2019).
BOLTZMANN_J_PER_K = 1.380649e-23

#: The Swerling cases this module knows (0 is the non-fluctuating target).
SWERLING_CASES = (0, 1, 2, 3, 4)

# Bracket and iteration count of the vectorized bisection in required_snr_db.
# 64 halvings of 180 dB leave an interval of 1e-17 dB, below the float64
# spacing of the numbers involved, so the result is exact to rounding.
_SNR_BRACKET_DB = (-80.0, 100.0)
_BISECTION_ITERATIONS = 64


def _as_float(x):
    return np.asarray(x, dtype=np.float64)


def _as_swerling(swerling):
    """Integer array of Swerling cases, ValueError unless every entry is 0..4."""
    sw = np.asarray(swerling)
    if sw.dtype.kind not in "iu":
        swf = np.asarray(sw, dtype=np.float64)
        if not np.all(np.isfinite(swf) & (swf == np.round(swf))):
            raise ValueError(f"swerling must be an integer 0..4, got {swerling!r}")
        sw = swf.astype(np.int64)
    if np.any((sw < 0) | (sw > 4)):
        raise ValueError(f"swerling must be an integer 0..4, got {swerling!r}")
    return sw


def _check_pfa(pfa):
    if not np.all((pfa > 0.0) & (pfa < 1.0)):
        raise ValueError("pfa must lie in the open interval (0, 1)")


def _scalar_or_array(out):
    # 0-d arrays come back as numpy.float64, everything else as ndarray.
    return out[()] if out.ndim == 0 else out


#: A linear SNR beyond which a steady (Swerling 0) target's Pd is 1 to double precision (60 dB).
_SNR_CERTAIN = 1e6


def _pd_kernel(snr_lin, threshold, sw):
    """Pd on flat, same-shape arrays; ``threshold`` is T = -ln(Pfa)."""
    out = np.empty(snr_lin.shape, dtype=np.float64)

    m = sw == 0
    if np.any(m):
        from scipy.stats import ncx2   # imported here: scipy.stats costs about 1 s at start-up
        s, t = snr_lin[m], threshold[m]
        p = ncx2.sf(2.0 * t, 2.0, 2.0 * s)
        # ncx2 gives nan for a centrality beyond about 1e18 (SNR 187 dB) and for an infinite one; there
        # Pd = Q1(sqrt(2S), sqrt(2T)) is 1 to double precision: with T <= 745 (Pfa >= 5e-324) and
        # S > 1e6, sqrt(2S) - sqrt(2T) > 1375 standard deviations.
        p[s > _SNR_CERTAIN] = 1.0
        out[m] = p

    m = (sw == 1) | (sw == 2)
    if np.any(m):
        out[m] = np.exp(-threshold[m] / (1.0 + snr_lin[m]))

    m = (sw == 3) | (sw == 4)
    if np.any(m):
        # u = 1/(2+S): (1 + 2 T S/(2+S)^2) exp(-2T/(2+S)) written to stay finite as S -> inf
        u = 1.0 / (2.0 + snr_lin[m])
        t = threshold[m]
        out[m] = (1.0 + 2.0 * t * (1.0 - 2.0 * u) * u) * np.exp(-2.0 * t * u)
    return out


def detection_probability(snr_db, pfa, swerling):
    """Probability of detection of one look, square-law detector, Swerling 0-4.

    Parameters
    ----------
    snr_db : array_like
        Mean signal-to-noise ratio of the look [dB] (power ratio; the mean
        over the target's RCS fluctuation for Swerling 1-4).
    pfa : array_like
        Probability of false alarm per detection cell [-], in (0, 1).
    swerling : int or array_like of int
        Swerling case, 0 (non-fluctuating) to 4.

    Returns
    -------
    pd : numpy.float64 or ndarray
        Probability of detection [-], broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If any ``swerling`` is not an integer in 0..4 or any ``pfa`` is
        outside (0, 1).

    Notes
    -----
    Complex Gaussian noise of unit power, square-law (envelope-squared)
    detector, threshold ``T = -ln(Pfa)`` on the normalised detector output so
    that noise alone crosses it with probability ``Pfa``; ``S`` is the linear
    mean SNR.

    * Swerling 0 (steady target): ``Pd = Q1(sqrt(2 S), sqrt(2 T))``, the
      Marcum Q function. Twice the normalised detector output is noncentral
      chi-square with 2 degrees of freedom and noncentrality ``2 S``, so
      ``Q1(a, b) = P(X > b**2)`` with ``X ~ ncx2(df=2, nc=a**2)`` gives
      ``Pd = ncx2.sf(2 T, 2, 2 S)``, which is how it is computed.
    * Swerling 1 and 2 (Rayleigh amplitude, exponential RCS):
      ``Pd = Pfa ** (1 / (1 + S))``.
    * Swerling 3 and 4 (chi-square RCS with 4 degrees of freedom):
      ``Pd = (1 + 2 T S / (2 + S)**2) exp(-2 T / (2 + S))``.

    For one look, Swerling 1 equals 2 and 3 equals 4: the odd and even cases
    differ only in whether the RCS decorrelates between pulses that are
    integrated, and here nothing is integrated. ``snr_db = -inf`` gives
    ``Pd = Pfa``, ``snr_db = +inf`` gives ``Pd = 1``.

    References
    ----------
    J. I. Marcum, "A statistical theory of target detection by pulsed radar",
    IRE Trans. Inf. Theory 6(2), 59-144 (1960).
    P. Swerling, "Probability of detection for fluctuating targets", IRE
    Trans. Inf. Theory 6(2), 269-308 (1960).
    M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed.,
    McGraw-Hill 2014, ch. 6 (single-pulse detection of fluctuating targets).

    Examples
    --------
    >>> round(float(detection_probability(15.0, 1e-6, 1)), 3)
    0.655
    """
    snr_db, pfa, sw = np.broadcast_arrays(_as_float(snr_db), _as_float(pfa), _as_swerling(swerling))
    _check_pfa(pfa)
    snr_lin = 10.0 ** (snr_db / 10.0)
    threshold = -np.log(pfa)
    out = _pd_kernel(snr_lin.ravel(), threshold.ravel(), sw.ravel()).reshape(snr_db.shape)
    return _scalar_or_array(out)


def required_snr_db(pd, pfa, swerling):
    """Single-look SNR that gives a detection probability [dB].

    The inverse of :func:`detection_probability` in its first argument.

    Parameters
    ----------
    pd : array_like
        Wanted probability of detection [-], in (pfa, 1).
    pfa : array_like
        Probability of false alarm [-], in (0, 1).
    swerling : int or array_like of int
        Swerling case, 0 to 4.

    Returns
    -------
    snr_db : numpy.float64 or ndarray
        Mean SNR of one look [dB], broadcast shape of the inputs.

    Raises
    ------
    ValueError
        For a bad ``swerling`` or ``pfa`` (as :func:`detection_probability`),
        if any ``pd`` is outside (pfa, 1), or if a Swerling 0, 3 or 4 answer
        lies outside [-80, 100] dB (only for ``pd`` within about 1e-7 of
        ``pfa`` in relative terms).

    Notes
    -----
    Swerling 1 and 2 have the closed form ``S = ln(Pfa) / ln(Pd) - 1``.
    Swerling 0, 3 and 4 are inverted numerically by a bisection in dB over
    [-80, 100] dB run on all elements at once, 64 halvings, which leaves the
    answer exact to float64 rounding (Pd rises strictly with SNR in every case,
    so the bisection cannot miss).

    References
    ----------
    M. A. Richards, *Fundamentals of Radar Signal Processing*, 2nd ed.,
    McGraw-Hill 2014, ch. 6.

    Examples
    --------
    >>> round(float(required_snr_db(0.9, 1e-6, 1)), 2)
    21.14
    """
    pd, pfa, sw = np.broadcast_arrays(_as_float(pd), _as_float(pfa), _as_swerling(swerling))
    _check_pfa(pfa)
    if not np.all((pd > pfa) & (pd < 1.0)):
        raise ValueError("pd must lie in the open interval (pfa, 1)")
    shape = pd.shape
    pd, pfa, sw = pd.ravel(), pfa.ravel(), sw.ravel()
    threshold = -np.log(pfa)
    out = np.empty(shape, dtype=np.float64).ravel()

    m = (sw == 1) | (sw == 2)
    if np.any(m):
        out[m] = 10.0 * np.log10(threshold[m] / -np.log(pd[m]) - 1.0)

    m = ~m
    if np.any(m):
        target, t, s = pd[m], threshold[m], sw[m]
        lo = np.full(target.shape, _SNR_BRACKET_DB[0])
        hi = np.full(target.shape, _SNR_BRACKET_DB[1])
        outside = (_pd_kernel(10.0 ** (lo / 10.0), t, s) > target) | (
            _pd_kernel(10.0 ** (hi / 10.0), t, s) < target
        )
        if np.any(outside):
            raise ValueError(
                f"required SNR lies outside [{_SNR_BRACKET_DB[0]}, {_SNR_BRACKET_DB[1]}] dB"
                " (pd too close to pfa)"
            )
        for _ in range(_BISECTION_ITERATIONS):
            mid = 0.5 * (lo + hi)
            below = _pd_kernel(10.0 ** (mid / 10.0), t, s) < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        out[m] = 0.5 * (lo + hi)
    return _scalar_or_array(out.reshape(shape))


def snr_db_from_reference(range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_snr_db):
    """SNR of a target scaled from a reference target by the radar equation [dB].

    Parameters
    ----------
    range_m : array_like
        Radar-to-target range [m], > 0.
    rcs_m2 : array_like
        Target radar cross-section [m^2], > 0.
    ref_range_m : array_like
        Range of the reference target [m].
    ref_rcs_m2 : array_like
        RCS of the reference target [m^2].
    ref_snr_db : array_like
        SNR of the reference target at its range [dB].

    Returns
    -------
    snr_db : numpy.float64 or ndarray
        ``ref_snr_db + 10 log10(rcs / ref_rcs) + 40 log10(ref_range / range)``.

    Notes
    -----
    Monostatic radar equation with everything but range and RCS held fixed
    (same radar, waveform, losses, noise): ``SNR`` proportional to
    ``rcs / R**4``. No propagation, multipath, clutter or eclipsing effects.

    References
    ----------
    M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill
    2001, ch. 1-2 (radar range equation).

    Examples
    --------
    >>> round(float(snr_db_from_reference(2e5, 1.0, 1e5, 1.0, 20.0)), 2)
    7.96
    """
    range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_snr_db = np.broadcast_arrays(
        *map(_as_float, (range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_snr_db))
    )
    out = ref_snr_db + 10.0 * np.log10(rcs_m2 / ref_rcs_m2) + 40.0 * np.log10(ref_range_m / range_m)
    return _scalar_or_array(out)


def pd_from_reference(range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_pd, pfa, swerling):
    """Single-look Pd of a target, from a radar's reference detection performance.

    A radar is often specified as "detects a ``ref_rcs_m2`` target at
    ``ref_range_m`` with probability ``ref_pd`` at ``pfa``". This turns that
    specification into Pd for any range and RCS.

    Parameters
    ----------
    range_m : array_like
        Radar-to-target range [m], > 0.
    rcs_m2 : array_like
        Target mean radar cross-section [m^2], > 0.
    ref_range_m : array_like
        Reference range [m].
    ref_rcs_m2 : array_like
        Reference mean RCS [m^2].
    ref_pd : array_like
        Probability of detection at the reference range and RCS [-], in (pfa, 1).
    pfa : array_like
        Probability of false alarm [-], in (0, 1).
    swerling : int or array_like of int
        Swerling case, 0 to 4, used both for the reference and the target.

    Returns
    -------
    pd : numpy.float64 or ndarray
        Probability of detection [-], broadcast shape of the inputs.

    Notes
    -----
    ``SNR_ref`` is the single-look SNR that gives ``ref_pd`` at ``pfa`` for
    that Swerling case (:func:`required_snr_db`); then
    ``SNR = SNR_ref (rcs / rcs_ref) (range_ref / range)**4``
    (:func:`snr_db_from_reference`) and Pd follows from the same Swerling case
    (:func:`detection_probability`). At the reference range and RCS the result
    is ``ref_pd`` to rounding.

    References
    ----------
    M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill 2001,
    ch. 2.

    Examples
    --------
    >>> round(float(pd_from_reference(1e5, 1.0, 1e5, 1.0, 0.8, 1e-6, 1)), 12)
    0.8
    """
    ref_snr_db = required_snr_db(ref_pd, pfa, swerling)
    snr_db = snr_db_from_reference(range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_snr_db)
    return detection_probability(snr_db, pfa, swerling)


def radar_range_m(
    peak_power_w,
    gain_db,
    wavelength_m,
    rcs_m2,
    snr_db,
    pulse_width_s,
    noise_temp_k=290.0,
    loss_db=0.0,
):
    """Maximum detection range of the monostatic radar equation [m].

    Parameters
    ----------
    peak_power_w : array_like
        Peak transmitted power [W].
    gain_db : array_like
        Antenna gain, the same on transmit and receive [dB].
    wavelength_m : array_like
        Wavelength [m].
    rcs_m2 : array_like
        Target radar cross-section [m^2].
    snr_db : array_like
        SNR needed at the detector [dB].
    pulse_width_s : array_like
        Pulse width [s]; matched filter, so noise bandwidth ``1 / tau``.
    noise_temp_k : array_like, optional
        System noise temperature [K], default 290 K.
    loss_db : array_like, optional
        Total system loss [dB], default 0.

    Returns
    -------
    range_m : numpy.float64 or ndarray
        Range at which the target gives ``snr_db`` [m].

    Notes
    -----
    ``R**4 = Pt G**2 lambda**2 sigma tau / ((4 pi)**3 k T0 L SNR)`` with
    ``k`` the Boltzmann constant: free space, one pulse, matched filter, no
    atmospheric or propagation factor.

    References
    ----------
    M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., McGraw-Hill 2001,
    ch. 2.
    MathWorks, Radar Toolbox documentation, ``radareqrng`` (same equation;
    its examples give 4.1057e4 m and 1.9426e5 m, reproduced in the tests).

    Examples
    --------
    >>> round(float(radar_range_m(1e6, 20.0, 299792458.0 / 10e9, 1.0, 6.0, 10e-6)))
    41057
    """
    args = np.broadcast_arrays(
        *map(
            _as_float,
            (peak_power_w, gain_db, wavelength_m, rcs_m2, snr_db, pulse_width_s, noise_temp_k, loss_db),
        )
    )
    peak_power_w, gain_db, wavelength_m, rcs_m2, snr_db, pulse_width_s, noise_temp_k, loss_db = args
    gain = 10.0 ** (gain_db / 10.0)
    numerator = peak_power_w * gain**2 * wavelength_m**2 * rcs_m2 * pulse_width_s
    denominator = (
        (4.0 * np.pi) ** 3 * BOLTZMANN_J_PER_K * noise_temp_k * 10.0 ** (loss_db / 10.0) * 10.0 ** (snr_db / 10.0)
    )
    return _scalar_or_array((numerator / denominator) ** 0.25)
