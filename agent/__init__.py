"""The conversational shopping agent: intent, a plan over typed tools, grounded answers."""
