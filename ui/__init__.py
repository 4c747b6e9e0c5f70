"""The Gradio screens: shopper chat (and its embeddable widget), support console, prompt studio."""
