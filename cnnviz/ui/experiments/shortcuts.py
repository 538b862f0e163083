"""The Experiments tab's keys, for Help › Keyboard shortcuts (F1). Alt+ keys: they never
clash with typing in a kernel cell or with the layer cards' arrow keys, and work only
while their view is shown."""

SHORTCUT_ROWS = (
    ("Experiments › Slide the window: play / pause", "Alt+P"),
    ("Experiments › Slide the window: one step forward / back", "Alt+Right / Alt+Left"),
    ("Experiments › Slide the window: faster / slower", "Alt+Up / Alt+Down"),
    ("Experiments › Slide the window: first / last step", "Alt+Home / Alt+End"),
    ("Experiments › Slide the window: pick a region", "Drag a rectangle on your picture"),
    ("Experiments › Receptive fields: pick a unit", "Click a unit of a feature map"),
)
