"""Where new radars should go: K more copies of a named radar, placed to catch the most flights, against a
flyer who keeps to the scenario's routes and against one who re-routes around them (``airpicture place``).

Method (``docs/place.md`` gives the assumptions and what is guaranteed):

1. **Candidates.** Copies of the radar named ``like`` (its kind, range, Pd model, scan period,
   availability and mast) at candidate sites: a CSV of sites (:func:`read_candidates`), the centres of
   a square grid over the scenario's airspace (:func:`grid_candidates`), or a list by name: the airfields of the
   packaged airport table inside the airspace (:func:`airbase_candidates`) or its highest ground
   (:func:`high_ground_candidates`, peaks of the terrain model); with terrain masking on, a
   site's ground elevation is the terrain's there, written into the candidate's radar table. A ``like``
   radar that flies an orbit is copied onto candidate orbits (:class:`~sim.platforms.Racetrack`: two waypoints flown out
   and back at its altitude and speed): a CSV of waypoint pairs (:func:`read_racetracks`) or copies of its
   own racetrack centred on the grid (:func:`orbit_grid_candidates`).
2. **The selection sample.** A fixed sample of flights is run through the Monte Carlo
   (:func:`sim.montecarlo.run`) with the existing radars and a seed of its own
   (:data:`SELECTION_SEED_OFFSET` from the re-score's): per flight, whether it already counts (detected,
   tracked while in the airspace, or stopped: the objective), and its route, sideways offset and
   transponder, which decide what a new radar could do.
3. **Hazards.** For flight ``i`` and candidate ``j``, ``P_ij`` is the candidate's availability times
   the probability that it forms a track that counts: the exact m-of-n probability of the candidate's
   per-scan Pd along the flight's row of its detection table (:func:`sim.tables.detection_table`), by a
   dynamic programme over the scans (:func:`track_probability`), averaged over :data:`PHASES` scan
   phases; an orbit candidate's per-scan Pd comes from the exact geometry of each scan (the platform where
   it is then, :func:`sim.detection.in_coverage`), averaged over :data:`LOOP_PHASES` loop phases too;
   ``a_ij = -ln(1 - P_ij)``. Candidates draw from streams of their own, so given the flight the
   new radars are independent of each other and of the existing ones.
4. **Objective.** ``F(S) = (1/N) sum_i [base_i + c_i (1 - exp(-sum_{j in S} a_ij))]``: ``base_i`` is 1
   for a flight that already counts, ``c_i`` what a flight that does not can gain (1, or for
   ``stopped`` the order's compliance; 0 for a flight whose crew refused a feasible order). ``F`` is
   monotone and submodular.
5. **Lazy greedy** (:func:`lazy_greedy`, CELF: Minoux 1978, Leskovec et al. 2007) picks K sites; a
   candidate's column ``P_:j`` is computed only when it reaches the top of the queue (until then its key
   is a geometric upper bound: its availability times the flights that pass within its reach). Each
   step records its marginal gain, the objective, and the online upper bound on the best layout of that
   size (``F(S_i) + sum of the k largest marginal-gain bounds at S_i``, Nemhauser, Wolsey & Fisher 1978,
   with the ``1 - (1 - 1/k)^k`` bound of greedy itself and each flight's own k best candidates).
6. **The adaptive flyer** (double oracle, McMahan, Gordon & Blum 2003): the red-team route search
   (:func:`sim.optimise.route.evade`) answers the current layout with the flyer's least-detectable
   route for a quarter, half and all of the distance budget; if any answer is worse for the defender
   than every route of the set by more than :data:`ADAPT_TOLERANCE`, the answers join the set (the
   scenario's routes, each on its own, and every route found) and the defender re-places against the
   worst case over the set, ``max_S min_r F_r(S)`` (:func:`robust_layout`: branch and bound with the
   per-route submodular bound and each flight's own best candidates; exact on the sample unless its
   node limit is reached, then its bound is reported). The loop ends when the flyer cannot improve or
   after ``rounds`` re-placements; the layout reported is the best of those the flyer answered, against
   every route found.
7. **Re-score.** Every layout is run through the full Monte Carlo with the re-score seed (never the
   selection sample): the written scenario file gives the same numbers under ``airpicture run``.

Modules, in the order of the method: :mod:`~sim.optimise.placement.candidates` (1:
sites and orbits, and the radar table of each) with :mod:`~sim.optimise.placement.readers`
(their CSV files), :mod:`~sim.optimise.placement.sample` (2: the selection sample),
:mod:`~sim.optimise.placement.columns` (3: each candidate's P per flight, and its
bound), :mod:`~sim.optimise.placement.selection` (4-5: the objective and the lazy
greedy), :mod:`~sim.optimise.placement.robust` (branch and bound against the worst
route), :mod:`~sim.optimise.placement.adaptive` (6: the adaptive flyer),
:mod:`~sim.optimise.placement.rescore` (7: layouts as scenarios, run by the Monte
Carlo), :mod:`~sim.optimise.placement.driver` (:func:`place`) and
:mod:`~sim.optimise.placement.result` (what it returns). Every public name is
importable from this package.

References
----------
R. Church, C. ReVelle, "The maximal covering location problem", Papers of the Regional Science
Association 32, 101-118 (1974).
G. L. Nemhauser, L. A. Wolsey, M. L. Fisher, "An analysis of approximations for maximizing submodular
set functions", Mathematical Programming 14, 265-294 (1978).
M. Minoux, "Accelerated greedy algorithms for maximizing submodular set functions", Optimization
Techniques, LNCIS 7, 234-243 (1978).
J. Leskovec et al., "Cost-effective outbreak detection in networks", KDD 2007, 420-429.
D. P. Morton, F. Pan, K. J. Saeger, "Models for nuclear smuggling interdiction", IIE Transactions
39(1), 3-14 (2007).
H. B. McMahan, G. J. Gordon, A. Blum, "Planning in the presence of cost functions controlled by an
adversary", ICML 2003.
A. Krause et al., "Robust submodular observation selection", JMLR 9, 2761-2801 (2008).
"""
from sim.optimise.placement.adaptive import (ADAPT_TOLERANCE, DEFAULT_MAX_EXTRA_KM, DEFAULT_ROUNDS,
                                             FLYER_BUDGET_FRACTIONS, FLYER_OFFSET_STEP_M, FLYER_RESCORE_MARGIN,
                                             AdaptiveRun, FlyerRoute, PlaceRound, adaptive_loop, flyer_budgets_km)
from sim.optimise.placement.candidates import (CANDIDATE_LISTS, CANDIDATES_MAX, HIGH_GROUND_COUNT,
                                               HIGH_GROUND_SEPARATION_M, Candidate, airbase_candidates, candidate_table,
                                               grid_candidates, high_ground_candidates, listed_candidates,
                                               orbit_grid_candidates, site_name, terrain_peaks, track_name)
from sim.optimise.placement.columns import (LOOP_PHASES, MODELS_KEPT, P_MAX, PHASES, TRACK_N_MAX, flight_groups,
                                            reach_matrix, reach_points, track_probability)
from sim.optimise.placement.driver import (ADD_MAX, AGAINST, DEFAULT_SELECT_CAMPAIGNS, GRID_KM_MAX, GRID_KM_MIN,
                                           ROUNDS_MAX, SELECTION_SEED_OFFSET, place)
from sim.optimise.placement.readers import (CSV_COLUMNS, CSV_MAX_BYTES, RACETRACK_COLUMNS, read_candidates,
                                            read_racetracks)
from sim.optimise.placement.rescore import Rescore, placed_doc
from sim.optimise.placement.result import PlaceResult
from sim.optimise.placement.robust import NODE_LIMIT, RobustLayout, robust_layout
from sim.optimise.placement.sample import OBJECTIVES, FlightSet, objective_state
from sim.optimise.placement.selection import TIE_TOLERANCE, Coverage, GreedyStep, lazy_greedy
from sim.platforms import Racetrack

__all__ = [
    "Candidate",
    "Racetrack",
    "Coverage",
    "FlightSet",
    "GreedyStep",
    "RobustLayout",
    "Rescore",
    "FlyerRoute",
    "PlaceRound",
    "PlaceResult",
    "place",
    "read_candidates",
    "read_racetracks",
    "grid_candidates",
    "airbase_candidates",
    "high_ground_candidates",
    "terrain_peaks",
    "listed_candidates",
    "CANDIDATE_LISTS",
    "HIGH_GROUND_COUNT",
    "HIGH_GROUND_SEPARATION_M",
    "orbit_grid_candidates",
    "candidate_table",
    "reach_points",
    "track_probability",
    "reach_matrix",
    "flight_groups",
    "site_name",
    "lazy_greedy",
    "robust_layout",
    "placed_doc",
    "objective_state",
    "OBJECTIVES",
    "AGAINST",
    "PHASES",
    "LOOP_PHASES",
    "SELECTION_SEED_OFFSET",
    "DEFAULT_SELECT_CAMPAIGNS",
    "DEFAULT_MAX_EXTRA_KM",
    "DEFAULT_ROUNDS",
    "ADAPT_TOLERANCE",
    "FLYER_BUDGET_FRACTIONS",
    "FLYER_OFFSET_STEP_M",
    "FLYER_RESCORE_MARGIN",
    "AdaptiveRun",
    "adaptive_loop",
    "flyer_budgets_km",
    "CANDIDATES_MAX",
    "track_name",
    "MODELS_KEPT",
    "P_MAX",
    "TRACK_N_MAX",
    "ADD_MAX",
    "GRID_KM_MAX",
    "GRID_KM_MIN",
    "ROUNDS_MAX",
    "CSV_COLUMNS",
    "CSV_MAX_BYTES",
    "RACETRACK_COLUMNS",
    "NODE_LIMIT",
    "TIE_TOLERANCE",
]
