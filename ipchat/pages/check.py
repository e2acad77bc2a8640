"""A page of the ipchat app (see ipchat/webapp.py)."""

from ipchat.webapp import check_an_answer_page

check_an_answer_page()
