"""A page of the ipchat app (see ipchat/webapp.py)."""

from ipchat.webapp import evaluate_set_page

evaluate_set_page()
