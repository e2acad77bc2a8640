"""A page of the ipchat app (see ipchat/webapp.py)."""

from ipchat.webapp import chat_page

chat_page()
