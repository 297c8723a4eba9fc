-- Moving from pg_cron: chronos.pg_cron_schedule() reads a schedule as pg_cron reads it and writes it in pg_chronos's
-- syntax (or says why it cannot), and chronos.import_pg_cron() turns this database's pg_cron jobs into tasks, with the
-- caller's rights, reporting one row per job. docs/pg_cron.md explains the mapping and the differences.

-- The values one field of a 5-field pg_cron schedule selects, read as pg_cron (Vixie cron) reads them: a list of `*`,
-- `n` or `a-b`, each with an optional `/step`; names (case-insensitive) where `names` is given, the first one matching
-- (so SUN is 0 also at the end of a range); a range whose start comes after its end selects nothing. `portable` is
-- false when pg_chronos would read the same text differently or refuse it, `problem` is set when pg_cron refuses it.
CREATE FUNCTION chronos.pg_cron_field(field text, what text, low int, high int, chronos_high int, names text[],
                                      OUT bits int[], OUT portable boolean, OUT problem text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    element text;
    part text[];
    word text;
    bounds int[];
    step int;
    value int;
BEGIN
    bits := '{}';
    portable := true;
    FOREACH element IN ARRAY pg_catalog.string_to_array(field, ',') LOOP
        part := pg_catalog.regexp_match(element, '^(?:(\*)|([[:alnum:]]+)(?:-([[:alnum:]]+))?)(?:/([0-9]+))?$');
        IF part IS NULL OR (part[1] IS NULL AND part[3] IS NULL AND part[4] IS NOT NULL) THEN
            problem := pg_catalog.format('the %s field "%s" is not a list of *, numbers, ranges (a-b) and steps '
                                         '(*/n, a-b/n).', what, field);
            RETURN;
        END IF;
        IF part[1] IS NOT NULL THEN
            bounds := ARRAY[low, high];
        ELSE
            bounds := '{}';
            FOREACH word IN ARRAY ARRAY[part[2], COALESCE(part[3], part[2])] LOOP
                value := CASE WHEN word OPERATOR(pg_catalog.~) '^[0-9]{1,9}$' THEN word::int
                              ELSE pg_catalog.array_position(names, pg_catalog.lower(word)) OPERATOR(pg_catalog.-) 1
                                   OPERATOR(pg_catalog.+) low END;
                IF value IS NULL OR value OPERATOR(pg_catalog.<) low OR value OPERATOR(pg_catalog.>) high THEN
                    problem := pg_catalog.format('the %s field "%s" holds "%s", which is %s a number from %s to %s%s.',
                                                 what, field, word,
                                                 CASE WHEN names IS NULL THEN 'not' ELSE 'neither' END, low, high,
                                                 CASE WHEN names IS NULL THEN '' ELSE ' nor a name' END);
                    RETURN;
                END IF;
                IF pg_catalog.length(word) OPERATOR(pg_catalog.>) 2 AND word OPERATOR(pg_catalog.~) '^[0-9]+$' THEN
                    portable := false;  -- pg_chronos reads at most two digits
                END IF;
                bounds := pg_catalog.array_append(bounds, value);
            END LOOP;
            IF bounds[1] OPERATOR(pg_catalog.>) bounds[2] THEN
                portable := false;  -- nothing in pg_cron, refused by pg_chronos
            END IF;
            IF high OPERATOR(pg_catalog.=) 7 AND part[3] IS NOT NULL AND bounds[2] OPERATOR(pg_catalog.=) 0
               AND part[3] OPERATOR(pg_catalog.!~) '^[0-9]+$' THEN
                portable := false;  -- a range ending in SUN ends on Sunday 7 in pg_chronos
            END IF;
        END IF;
        step := 1;
        IF part[4] IS NOT NULL THEN
            IF pg_catalog.length(part[4]) OPERATOR(pg_catalog.>) 9 OR part[4]::int OPERATOR(pg_catalog.<) 1 THEN
                problem := pg_catalog.format('the %s field "%s" has a step below 1 or beyond any value.', what,
                                             field);
                RETURN;
            END IF;
            step := part[4]::int;
            IF step OPERATOR(pg_catalog.>) chronos_high OR pg_catalog.length(part[4]) OPERATOR(pg_catalog.>) 2 THEN
                portable := false;  -- pg_chronos refuses a step longer than the field
            END IF;
        END IF;
        FOR value IN bounds[1] .. bounds[2] BY step LOOP
            bits := pg_catalog.array_append(bits, value);
        END LOOP;
    END LOOP;
    IF names IS NOT NULL AND high OPERATOR(pg_catalog.=) 7 THEN
        -- day-of-week: 7 is Sunday too
        bits := pg_catalog.array_replace(bits, 7, 0);
    END IF;
    bits := ARRAY(SELECT DISTINCT b FROM pg_catalog.unnest(bits) b ORDER BY b);
END
$$;

COMMENT ON FUNCTION chronos.pg_cron_field(text, text, int, int, int, text[]) IS
'used by chronos.pg_cron_schedule: the values one pg_cron schedule field selects';

-- The shortest pg_chronos field text for a set of values in low..high: *, */n, or a list of numbers and ranges.
CREATE FUNCTION chronos.pg_cron_field_text(bits int[], low int, high int) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT CASE
        WHEN bits OPERATOR(pg_catalog.=) ARRAY(SELECT pg_catalog.generate_series(low, high)) THEN '*'
        WHEN pg_catalog.cardinality(bits) OPERATOR(pg_catalog.>) 2 AND bits[1] OPERATOR(pg_catalog.=) low
             AND bits OPERATOR(pg_catalog.=)
                 ARRAY(SELECT pg_catalog.generate_series(low, high, bits[2] OPERATOR(pg_catalog.-) bits[1]))
        THEN '*/' OPERATOR(pg_catalog.||) (bits[2] OPERATOR(pg_catalog.-) bits[1])::text
        ELSE (SELECT pg_catalog.string_agg(CASE WHEN first_value OPERATOR(pg_catalog.=) last_value
                                                THEN first_value::text
                                                ELSE first_value::text OPERATOR(pg_catalog.||) '-'
                                                     OPERATOR(pg_catalog.||) last_value::text END,
                                           ',' ORDER BY first_value)
                FROM (SELECT pg_catalog.min(v) AS first_value, pg_catalog.max(v) AS last_value
                        FROM pg_catalog.unnest(bits) WITH ORDINALITY AS u(v, o)
                       GROUP BY v OPERATOR(pg_catalog.-) o) runs)
    END;
END;

COMMENT ON FUNCTION chronos.pg_cron_field_text(int[], int, int) IS
'used by chronos.pg_cron_schedule: pg_chronos field text for a set of values';

-- A pg_cron schedule in pg_chronos's syntax, firing at the same times: the text itself when pg_chronos reads it the
-- same way, else the fields rewritten. NULL and the reason when pg_chronos cannot express it or pg_cron refuses it.
-- pg_cron requires both day fields to match when either starts with *, pg_chronos when either covers every day: the
-- day fields are rewritten where the two rules differ, and the schedule refused where no rewriting gives the same days.
CREATE FUNCTION chronos.pg_cron_schedule(pg_cron_schedule text, OUT schedule text, OUT note text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    spec text := pg_catalog.btrim(pg_cron_schedule, E' \t\r\n');
    fields text[];
    seconds text[];
    word text;
    minute record;
    hour record;
    dom record;
    month record;
    dow record;
    dom_last boolean;
    dom_text text;
    dow_text text;
    day_note text;
BEGIN
    IF spec IS NULL OR spec OPERATOR(pg_catalog.=) '' THEN
        note := 'The schedule is empty.';
        RETURN;
    END IF;
    IF pg_catalog.left(spec, 1) OPERATOR(pg_catalog.=) '@' THEN
        word := pg_catalog.substr(pg_catalog.split_part(pg_catalog.replace(spec, E'\t', ' '), ' ', 1), 2);
        IF word OPERATOR(pg_catalog.=) ANY ('{yearly,annually,monthly,weekly,daily,midnight,hourly}'::text[]) THEN
            schedule := '@' OPERATOR(pg_catalog.||) word;
        ELSIF word OPERATOR(pg_catalog.=) ANY ('{reboot,restart}'::text[]) THEN
            note := pg_catalog.format('"@%s" runs the job each time pg_cron starts; pg_chronos has no schedule for '
                                      'a server start. Give the task a time-based schedule, or run its command from '
                                      'your start-up procedure.', word);
        ELSE
            note := pg_catalog.format('pg_cron does not know "@%s" either; it never runs this job.', word);
        END IF;
        RETURN;
    END IF;
    -- pg_cron 1.5 and later: "N seconds" (1-59), the next run N seconds after the previous one started.
    seconds := pg_catalog.regexp_match(pg_catalog.lower(spec), '^\+?([0-9]{1,9})\s*seconds?$');
    IF seconds IS NOT NULL THEN
        IF seconds[1]::int OPERATOR(pg_catalog.<) 1 OR seconds[1]::int OPERATOR(pg_catalog.>) 59 THEN
            note := 'pg_cron accepts 1 to 59 seconds; it never runs this job.';
        ELSE
            schedule := pg_catalog.format('@every %ss', seconds[1]::int);
        END IF;
        RETURN;
    END IF;
    fields := pg_catalog.regexp_split_to_array(spec, '[ \t]+');
    IF pg_catalog.cardinality(fields) OPERATOR(pg_catalog.<) 5 THEN
        note := pg_catalog.format('pg_cron reads 5 fields (minute hour day-of-month month day-of-week); "%s" has %s.',
                                  spec, pg_catalog.cardinality(fields));
        RETURN;
    END IF;
    minute := chronos.pg_cron_field(fields[1], 'minute', 0, 59, 59, NULL);
    hour := chronos.pg_cron_field(fields[2], 'hour', 0, 23, 23, NULL);
    dom_last := fields[3] OPERATOR(pg_catalog.=) '$';
    dom := chronos.pg_cron_field(CASE WHEN dom_last THEN '1' ELSE fields[3] END, 'day-of-month', 1, 31, 31, NULL);
    month := chronos.pg_cron_field(fields[4], 'month', 1, 12, 12,
                                   '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}');
    dow := chronos.pg_cron_field(fields[5], 'day-of-week', 0, 7, 6, '{sun,mon,tue,wed,thu,fri,sat,sun}');
    note := COALESCE(minute.problem, hour.problem, dom.problem, month.problem, dow.problem);
    IF note IS NOT NULL THEN
        note := 'pg_cron cannot read this schedule either: ' OPERATOR(pg_catalog.||) note;
        RETURN;
    END IF;
    IF dom_last THEN
        dom.bits := '{}';
    END IF;
    IF pg_catalog.cardinality(minute.bits) OPERATOR(pg_catalog.=) 0
       OR pg_catalog.cardinality(hour.bits) OPERATOR(pg_catalog.=) 0
       OR pg_catalog.cardinality(month.bits) OPERATOR(pg_catalog.=) 0 THEN
        note := pg_catalog.format('pg_cron never runs "%s": one of its fields selects nothing (a range whose start '
                                  'comes after its end is empty there).', spec);
        RETURN;
    END IF;
    dom_text := CASE WHEN dom_last THEN '$' WHEN dom.portable THEN fields[3]
                     ELSE chronos.pg_cron_field_text(dom.bits, 1, 31) END;
    dow_text := CASE WHEN dow.portable THEN fields[5] ELSE chronos.pg_cron_field_text(dow.bits, 0, 6) END;
    IF pg_catalog.left(fields[3], 1) OPERATOR(pg_catalog.=) '*'
       OR pg_catalog.left(fields[5], 1) OPERATOR(pg_catalog.=) '*' THEN
        -- pg_cron: a day must match both fields
        IF (pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 0 AND NOT dom_last)
           OR pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 0 THEN
            note := pg_catalog.format('pg_cron never runs "%s": one of its day fields selects no day.', spec);
            RETURN;
        END IF;
        IF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.<) 31
           AND pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.<) 7 THEN
            note := pg_catalog.format('pg_cron runs "%s" on days that match both day-of-month "%s" and day-of-week '
                                      '"%s" (a day field starting with * makes it require both); pg_chronos requires '
                                      'both only when one of them covers every day, and takes either otherwise. '
                                      'Write the days as one field, or split the job into tasks that each fix the '
                                      'days another way.', spec, fields[3], fields[5]);
            RETURN;
        END IF;
    ELSE
        -- pg_cron: a day may match either field
        IF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 31
           OR pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 7 THEN
            dom_text := '*';
            dow_text := '*';
            day_note := 'every day (pg_cron takes a day matching either day field, and one covers every day)';
        ELSIF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 0 AND NOT dom_last
              AND pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 0 THEN
            note := pg_catalog.format('pg_cron never runs "%s": its day fields select no day.', spec);
            RETURN;
        ELSIF pg_catalog.cardinality(dom.bits) OPERATOR(pg_catalog.=) 0 AND NOT dom_last THEN
            dom_text := '*';
            day_note := 'only the days of the week (its day-of-month field selects no day)';
        ELSIF pg_catalog.cardinality(dow.bits) OPERATOR(pg_catalog.=) 0 THEN
            dow_text := '*';
            day_note := 'only the days of the month (its day-of-week field selects no day)';
        END IF;
    END IF;
    schedule := pg_catalog.concat_ws(' ',
        CASE WHEN minute.portable THEN fields[1] ELSE chronos.pg_cron_field_text(minute.bits, 0, 59) END,
        CASE WHEN hour.portable THEN fields[2] ELSE chronos.pg_cron_field_text(hour.bits, 0, 23) END,
        dom_text,
        CASE WHEN month.portable THEN fields[4] ELSE chronos.pg_cron_field_text(month.bits, 1, 12) END,
        dow_text);
    IF pg_catalog.cardinality(fields) OPERATOR(pg_catalog.>) 5 THEN
        note := pg_catalog.format('pg_cron ignores "%s" after the fifth field.',
                                  pg_catalog.array_to_string(fields[6:], ' '));
    END IF;
    IF schedule OPERATOR(pg_catalog.<>) pg_catalog.array_to_string(fields[1:5], ' ') THEN
        note := pg_catalog.concat_ws(' ', note,
                                     pg_catalog.format('Written "%s" for pg_chronos, which runs at the same times%s.',
                                                       schedule, ': ' OPERATOR(pg_catalog.||) day_note));
    END IF;
END
$$;

COMMENT ON FUNCTION chronos.pg_cron_schedule(text) IS
'a pg_cron schedule in pg_chronos syntax, firing at the same times, with a note; NULL and the reason if it cannot be';

-- A setting pg_cron may make readable to superusers only (cron.timezone, cron.database_name): its value, NULL when
-- the server does not define it (an older pg_cron, or pg_cron not loaded; a value set for a name pg_cron does not
-- define is a placeholder and ignored), or an error naming who may read it.
CREATE FUNCTION chronos.pg_cron_setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    value text;
BEGIN
    BEGIN
        value := pg_catalog.current_setting(setting_name, true);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'permission denied to read pg_cron''s setting %', setting_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron lets only superusers and members of pg_read_all_settings read it, and the '
                           'import needs it.',
                  HINT = 'Ask a superuser to run chronos.import_pg_cron(), or to GRANT pg_read_all_settings to you.';
    END;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_settings s WHERE s.name OPERATOR(pg_catalog.=) setting_name) THEN
        RETURN NULL;
    END IF;
    RETURN value;
END
$$;

COMMENT ON FUNCTION chronos.pg_cron_setting(text) IS
'used by chronos.import_pg_cron: a pg_cron setting, NULL when the server does not define it';

-- Imports this database's pg_cron jobs (those of cron.job the caller can see) as tasks, and returns one row per job:
-- imported, skipped (imported before, or a job of another database: with the statement to run there) or not imported
-- (with the reason and what to do). A task remembers its job in remark ('imported from pg_cron job N'), which is how a
-- second import finds it. Runs with the caller's rights: the tasks' trigger lets it create tasks only for roles the
-- caller is a member of. Only pg_cron's own cron.job is read (a table of that name outside the extension pg_cron could
-- have been written by anyone).
CREATE FUNCTION chronos.import_pg_cron()
RETURNS TABLE (jobid bigint, jobname text, database text, action text, task_id bigint, task_name text, reason text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job_table pg_catalog.regclass;
    cron_database text;
    zone text;
    job record;
    translated record;
    job_owner pg_catalog.regrole;
    imported record;
    candidate text;
    marker text;
    task_status chronos.task_state;
    error_state text;
    error_message text;
    error_detail text;
    error_hint text;
BEGIN
    BEGIN
        job_table := pg_catalog.to_regclass('cron.job');
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'permission denied for schema cron'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The import reads the jobs you can see in pg_cron''s table cron.job.',
                  HINT = 'Ask a superuser to GRANT USAGE ON SCHEMA cron to you (pg_cron''s own users need it too), or '
                         'to run chronos.import_pg_cron() for every role.';
    END;
    IF job_table IS NULL THEN
        BEGIN
            cron_database := chronos.pg_cron_setting('cron.database_name');
        EXCEPTION WHEN insufficient_privilege THEN
            cron_database := NULL;
        END;
        RAISE EXCEPTION 'pg_cron''s table cron.job does not exist in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'undefined_table',
                  DETAIL = CASE WHEN cron_database IS NULL
                                THEN 'pg_cron keeps its jobs in the database named by its setting cron.database_name.'
                                ELSE pg_catalog.format('pg_cron keeps its jobs in database "%s" (cron.database_name).',
                                                       cron_database) END,
                  HINT = 'Run chronos.import_pg_cron() in the database that has CREATE EXTENSION pg_cron: it lists '
                         'the jobs of every database, with the statement to run in each.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                     JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.objid OPERATOR(pg_catalog.=) job_table::pg_catalog.oid
                      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                      AND d.deptype OPERATOR(pg_catalog.=) 'e' AND e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'table cron.job is not pg_cron''s'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('It belongs to no extension pg_cron (its owner is %s); jobs are imported '
                                             'only from the table of the extension pg_cron.',
                                             (SELECT c.relowner::pg_catalog.regrole FROM pg_catalog.pg_class c
                                               WHERE c.oid OPERATOR(pg_catalog.=) job_table)),
                  HINT = 'Run chronos.import_pg_cron() in the database where CREATE EXTENSION pg_cron was run.';
    END IF;
    -- pg_cron 1.5 and later evaluate schedules in cron.timezone (default GMT); earlier versions always in GMT.
    zone := COALESCE(chronos.pg_cron_setting('cron.timezone'), 'GMT');

    FOR job IN
        SELECT j.jobid, j.schedule, j.command, j.database, j.username,
               pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'jobname' AS jobname,
               COALESCE((pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'active')::boolean, true) AS active,
               pg_catalog.count(*) OVER (PARTITION BY j.database,
                                              pg_catalog.to_jsonb(j) OPERATOR(pg_catalog.->>) 'jobname') AS sharing_name
          FROM cron.job j
         ORDER BY j.jobid
    LOOP
        jobid := job.jobid;
        jobname := job.jobname;
        database := job.database;
        task_id := NULL;
        action := NULL;
        -- pg_cron's names are unique per user, pg_chronos's per database.
        task_name := CASE WHEN job.jobname IS NULL THEN 'pg_cron-' OPERATOR(pg_catalog.||) job.jobid::text
                          WHEN job.sharing_name OPERATOR(pg_catalog.>) 1
                          THEN job.jobname OPERATOR(pg_catalog.||) '@' OPERATOR(pg_catalog.||) job.username
                          ELSE job.jobname END;
        marker := pg_catalog.format('imported from pg_cron job %s', job.jobid);
        translated := chronos.pg_cron_schedule(job.schedule);
        SELECT r.oid::pg_catalog.regrole INTO job_owner
          FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) job.username;
        task_status := CASE WHEN job.active THEN 'scheduled' ELSE 'paused' END;

        IF translated.schedule IS NULL THEN
            action := 'not imported';
            reason := pg_catalog.format('Its schedule "%s" cannot be imported: %s', job.schedule, translated.note);
        ELSIF job_owner IS NULL THEN
            action := 'not imported';
            reason := pg_catalog.format('Its user "%s" does not exist. Create that role, or give the job an existing '
                                        'user (cron.alter_job(%s, username => …)), and import again.',
                                        job.username, job.jobid);
        ELSIF job.database OPERATOR(pg_catalog.<>) pg_catalog.current_database()::text THEN
            action := 'skipped';
            reason := pg_catalog.format(
                'It runs in database "%s". After CREATE EXTENSION pg_chronos there, run in that database: '
                'INSERT INTO chronos.tasks (name, type, schedule, timezone, command, owner, status, remark) '
                'VALUES (%L, ''loop'', %L, %L, %L, %L, %L, %L) ON CONFLICT (name) WHERE name IS NOT NULL DO NOTHING;',
                job.database, task_name, translated.schedule, zone, job.command,
                pg_catalog.quote_ident(job.username), task_status, marker);
        ELSE
            SELECT t.id, t.name INTO imported
              FROM chronos.tasks t WHERE t.remark OPERATOR(pg_catalog.=) marker ORDER BY t.id LIMIT 1;
            IF FOUND THEN
                action := 'skipped';
                task_id := imported.id;
                task_name := imported.name;
                reason := 'It was imported before; the task is left as it is.';
            ELSE
                -- A name taken (perhaps by a task the caller cannot see) is tried once more with the user appended.
                FOREACH candidate IN ARRAY ARRAY[task_name, job.jobname OPERATOR(pg_catalog.||) '@'
                                                            OPERATOR(pg_catalog.||) job.username] LOOP
                    CONTINUE WHEN candidate IS NULL
                               OR (action IS NOT NULL AND candidate OPERATOR(pg_catalog.=) task_name);
                    BEGIN
                        INSERT INTO chronos.tasks (name, type, schedule, timezone, command, owner, status, remark)
                        VALUES (candidate, 'loop', translated.schedule, zone, job.command, job_owner, task_status,
                                marker)
                        RETURNING id INTO task_id;
                        action := 'imported';
                        task_name := candidate;
                        reason := translated.note;
                        EXIT;
                    EXCEPTION WHEN OTHERS THEN
                        GET STACKED DIAGNOSTICS error_state = RETURNED_SQLSTATE, error_message = MESSAGE_TEXT,
                                                error_detail = PG_EXCEPTION_DETAIL, error_hint = PG_EXCEPTION_HINT;
                        action := 'not imported';
                        reason := CASE WHEN error_state OPERATOR(pg_catalog.=) '23505'
                                       THEN pg_catalog.format('%s exists already. Rename it (UPDATE chronos.tasks '
                                                              'SET name = …), and import again.',
                                                              CASE WHEN task_name OPERATOR(pg_catalog.=) candidate
                                                                   THEN pg_catalog.format('A task named "%s"',
                                                                                          candidate)
                                                                   ELSE pg_catalog.format('A task named "%s", and one '
                                                                                          'named "%s",', task_name,
                                                                                          candidate) END)
                                       ELSE pg_catalog.concat_ws(' ', 'pg_chronos refuses the task: '
                                                                      OPERATOR(pg_catalog.||) error_state
                                                                      OPERATOR(pg_catalog.||) ': '
                                                                      OPERATOR(pg_catalog.||) error_message
                                                                      OPERATOR(pg_catalog.||) '.',
                                                                 NULLIF(error_detail, ''), NULLIF(error_hint, '')) END;
                        EXIT WHEN error_state OPERATOR(pg_catalog.<>) '23505';
                    END;
                END LOOP;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION chronos.import_pg_cron() IS
'import this database''s pg_cron jobs as tasks; one row per job: imported, skipped or not imported, and why';
