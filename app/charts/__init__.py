"""Pure chart builders (Altair); tests inspect them with chart.to_dict()."""
