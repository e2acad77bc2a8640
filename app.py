"""ipchat in the browser, from a clone: `streamlit run app.py` (or `make run`). Installed: `ipchat app`."""

from ipchat.webapp import main

main()
