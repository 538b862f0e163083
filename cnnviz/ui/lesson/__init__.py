"""The lesson panel: a lesson (.cnnviz-lesson, the lecture's tour among them) walked step by
step beside the tabs, each step setting the app up, with exercises the app checks."""
