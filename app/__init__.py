"""The web application: the REST API with the Gradio screens mounted on it, composed above
both so that neither imports the other."""
