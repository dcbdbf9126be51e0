"""The fact catalogue (data in `catalogue.yaml`): every fact a rule may read, its source,
sensitivity and fetch cost. Its schema lives in `entitle.rules.catalogue`."""
