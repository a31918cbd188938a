"""The optimisers: answers chosen by search, over what a planner can change, with the simulator as judge.

Two questions, a subpackage each, and the kernel they share:

- :mod:`sim.optimise.route` (``airpicture evade``): the least-detectable route
  between two airports for each extra-distance budget, against a scenario's
  radars, as it will be flown.
- :mod:`sim.optimise.placement` (``airpicture place``): where K more copies of a
  radar should go, against a flyer who keeps to the scenario's routes and one
  who re-routes around them (the route search is its flyer).
- :mod:`sim.optimise.fieldread`: compiled bilinear reads of a cell-centre field
  (the route search's innermost operation).

Why a layer of its own, and why this name. The analysis (:mod:`sim.analysis`)
runs the core on scenarios it is given and reports what it finds: sweeps,
comparisons, inference. An optimiser *chooses*: it searches over inputs (a
route's waypoints, a layout's sites), calls the core (``prepare``, the
detection tables, ``run``) and the analysis many times, and returns what it
chose with the bounds it proved. So it sits above the analysis and below what
shows and asks for its answers: it may import the analysis, the core and
:mod:`geo`; nothing below it imports it; products draw its results without
importing it; the front doors (the command line, :mod:`sim.api`, the page)
call it (``tests/test_layers.py`` holds all of this). The name is the verb
both questions share, in the project's spelling (an "optimiser", as the docs
say); the subpackages name what is optimised, a route and a placement, not the
method (Lagrangian relaxation, lazy greedy, branch and bound), which may
change. Nothing is imported here: ``import sim.optimise.route`` loads the
route search (scipy's csgraph) only when it is asked for.
"""

__all__: list[str] = []
