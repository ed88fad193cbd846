"""Pure computation behind the labs: no ipywidgets here."""
