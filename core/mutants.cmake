# Deliberately broken engines for the harness's teeth test (src/fwr_mutant.h).
fwr_add_mutant(valid_first 1)
fwr_add_mutant(no_check 2)
fwr_add_mutant(no_void 3)
fwr_add_mutant(no_neighbour 4)
fwr_add_mutant(no_readback 5)
fwr_add_mutant(same_program 6)
fwr_add_mutant(no_rescan 7)
fwr_add_mutant(no_digest 8)
