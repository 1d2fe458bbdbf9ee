"""A real game in which GNU Go, told only simple ko, broke our positional superko.

docs/gnugo10_v7_100 game 28 (Black: videoworld-v7, White: GNU Go 3.8 level 10). After these
moves and two passes, in the arena's cleanup phase, GNU Go without ``--positional-superko``
answered ``genmove w`` with J5, which recreates an earlier position.
"""

MOVES = ("C3 F3 D6 G6 F7 G7 F6 F5 G8 H8 F8 C7 H9 C6 H7 D5 H6 E5 G3 G4 G2 F2 H3 H4 E3 E4 D4 B4 B3 E2 D2 C4 "
         "D3 G1 B2 C1 C2 D1 C5 E6 J6 B1 A1 A2 A3 B5 A1 E1 A2 H2 H5 G5 J8 D8 D7 E7 J4 J3 E8 E9 F9 D9 H1 J1 "
         "C9 J5 D7 C8 J4 pass pass").split()
SUPERKO_POINT = "J5"  # illegal for White here, by positional superko only
