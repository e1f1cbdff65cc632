"""The RevOps dashboard (Streamlit) over the read-only marts snapshot: `make dashboard`."""
