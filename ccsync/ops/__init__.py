"""Running ccsync in production: settings checks, health probes, metrics, logs, queues."""
