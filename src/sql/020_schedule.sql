-- The schedule engine as SQL: preview fire times and describe a schedule. Neither needs a worker.

CREATE FUNCTION chronos.next_runs(schedule text, after timestamptz DEFAULT now(), count int DEFAULT 5,
                                  timezone text DEFAULT NULL)
RETURNS SETOF timestamptz
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'chronos_next_runs';

COMMENT ON FUNCTION chronos.next_runs(text, timestamptz, int, text) IS
'the next count fire times of schedule strictly after after, in timezone (NULL: the session''s TimeZone)';

CREATE FUNCTION chronos.describe_schedule(schedule text, timezone text DEFAULT NULL)
RETURNS text
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'chronos_describe_schedule';

COMMENT ON FUNCTION chronos.describe_schedule(text, text) IS 'a short English description of schedule';

-- task_name is of type name so that a call with an untyped literal, next_runs('@hourly', '2026-01-01'), still reaches
-- the schedule preview above (PostgreSQL prefers text for untyped literals).
CREATE FUNCTION chronos.next_runs(task_name name, count int DEFAULT 5)
RETURNS SETOF timestamptz
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'chronos_next_runs_of_task';

COMMENT ON FUNCTION chronos.next_runs(name, int) IS
'the next count runs of the task called task_name, honouring its schedule, time zone, start and end time and max_runs';
