"""Pure decisions of the desk: threading, lifecycle, rules, calendars. No I/O."""
