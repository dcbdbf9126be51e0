"""Where facts come from: the MAGDA connector (`entitle.sources.magda`) and, later, local datasets
and the stage-wise gateway. Nothing here imports `entitle.registry`: the simulator is reached over
HTTP, exactly as MAGDA would be."""
