"""The same CPG work through libcpg (cpg_bench.c) and through the binding (cpg_bench.py),
alternated on one three-node test cluster, printed as ratios: ``python -m bench``.

__main__ is the command line, runner starts the cluster and alternates the rounds, work
says what each row runs and how its figure is computed, workers compiles the C program and
talks to the worker processes, table prints the result.
"""
