"""The category catalogue (部件/事件, hotline categories) with deadlines, and the routing rules
(category × region → department). Both are data, editable, importable, with history."""
