"""Energy and carbon: activity and economic records, factor sets, the inventory (and its cache),
snapshots, imports and exports, forest sinks, the cockpit."""
