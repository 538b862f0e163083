"""The main window: menus, toolbar, tabs, settings, files in and out, start-up."""
