-- The schedule engine seen from SQL: chronos.next_runs() previews fire times and chronos.describe_schedule() reads a
-- schedule back in English. Neither needs a worker. Times are shown in UTC unless a test sets another TimeZone.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';

--
-- A fixed time of day in a zone: 02:30 does not exist in New York on 2026-03-08 (clocks jump from 02:00 to 03:00), so
-- that day's run happens when the gap ends, at 03:00 EDT.
--
SELECT * FROM chronos.next_runs('30 2 * * *', '2026-03-07 12:00+00', 3, 'America/New_York');

--
-- A NULL time zone means the session's TimeZone, for both functions.
--
SET TimeZone = 'Asia/Tokyo';
SELECT * FROM chronos.next_runs('0 9 * * *', '2026-01-01 00:00+00', 2);
SELECT * FROM chronos.next_runs('0 9 * * *', '2026-01-01 00:00+00', 2, NULL);
SELECT * FROM chronos.next_runs('0 9 * * *', '2026-01-01 00:00+00', 2, 'Europe/Paris');
SELECT chronos.describe_schedule('0 9 * * *');
SELECT chronos.describe_schedule('0 9 * * *', 'Europe/Paris');
SET TimeZone = 'UTC';

--
-- Cron with 5 fields (minute hour day-of-month month day-of-week) and with 6 (seconds first). The first fire time is
-- strictly after `after`. 2026-01-01 is a Thursday.
--
SELECT chronos.next_runs('*/15 * * * *', '2026-01-01 00:07+00', 4);
SELECT chronos.next_runs('*/15 * * * *', '2026-01-01 00:15+00', 2);
SELECT chronos.next_runs('*/20 * * * * *', '2026-01-01 00:00:50+00', 4);
SELECT chronos.next_runs('30 15 10 * * *', '2026-01-01 00:00+00', 2);
-- lists, ranges and steps
SELECT chronos.next_runs('0,30 9 * * *', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('0 8-18/5 * * *', '2026-01-01 00:00+00', 4);
SELECT chronos.next_runs('5/20 * * * *', '2026-01-01 00:00+00', 4);
SELECT chronos.next_runs('0 22-23,0-1 * * *', '2026-01-01 12:00+00', 4);
-- month and weekday names, in any case; 0 and 7 are both Sunday, and a range may end on SUN
SELECT chronos.next_runs('0 0 1 jan,Jul *', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('0 12 * * MON-FRI', '2026-01-02 13:00+00', 3);
SELECT chronos.next_runs('0 0 * * 7', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('0 0 * * 0', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('0 0 * * fri-sun', '2026-01-01 00:00+00', 4);
SELECT chronos.next_runs('0 0 ? * MON', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('0 0 1 */4 ?', '2026-01-01 00:00+00', 3);
-- the last day of the month: L or $, alone or in a list
SELECT chronos.next_runs('0 0 L * *', '2026-01-01 00:00+00', 4);
SELECT chronos.next_runs('0 0 $ 2 *', '2027-06-01 00:00+00', 3);
SELECT chronos.next_runs('0 0 1,l * *', '2026-01-01 00:00+00', 4);
-- the last Friday of the month (5L) and the second and fifth Monday (MON#2, 1#5)
SELECT chronos.next_runs('0 0 * * 5L', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('0 0 * * MON#2', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('0 0 * * 1#5', '2026-01-01 00:00+00', 3);
-- both day fields restricted: a day matches if either matches (the 15th, or any Monday)
SELECT chronos.next_runs('0 0 15 * MON', '2026-01-01 00:00+00', 5);
SELECT chronos.next_runs('0 0 15 * ?', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('0 0 L * 5L', '2026-01-01 00:00+00', 4);
-- descriptors, in any case
SELECT d.name, array_agg(r ORDER BY r) AS next_two
  FROM unnest(ARRAY['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@DAILY'])
       WITH ORDINALITY d(name, i),
       chronos.next_runs(d.name, '2026-01-01 00:00+00', 2) r
 GROUP BY d.name, d.i ORDER BY d.i;
-- surrounding blanks are ignored
SELECT chronos.next_runs('  0 12 * * *  ', '2026-01-01 00:00+00', 1);

--
-- 29 February exists in leap years only (2100 is not one); 30 February never, so it is refused.
--
SELECT chronos.next_runs('0 0 29 2 *', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('0 0 29 2 *', '2096-03-01 00:00+00', 1);
SELECT chronos.next_runs('0 0 30 2 *', '2026-01-01 00:00+00', 1);

--
-- Fixed rate: @every with a Go duration or an interval, "every <interval>", or plain interval text. Previews start at
-- `after`, so the fire times are after + k * interval.
--
SELECT chronos.next_runs('@every 1h30m', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('@every 90s', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('@every 1.5h', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('@every 2m30s', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('@every 1500ms', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('@every 1 day 2 hours', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('@EVERY 10 minutes', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('every 5 minutes', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('every hour', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('10 minutes', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('01:30:00', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('1.5 hours', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('@ 2 weeks', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('1 mon', '2026-01-31 00:00+00', 3);

--
-- Fixed delay: @after counts from the end of the previous run; previews assume runs take no time, so each fire time is
-- the previous one plus the interval. From 31 January, a month later is 28 February, and a month after that 28 March,
-- where @every keeps to the anchor (31 March).
--
SELECT chronos.next_runs('@after 10m', '2026-01-01 00:00+00', 3);
SELECT chronos.next_runs('@after 1 month', '2026-01-31 00:00+00', 3);
SELECT chronos.next_runs('@every 1 month', '2026-01-31 00:00+00', 3);

--
-- Every N days or weeks at a time of day: the first fire is on the day of `after` if that time is still ahead.
--
SELECT chronos.next_runs('every 2 days at 03:30', '2026-01-01 12:00+00', 3);
SELECT chronos.next_runs('every 2 days at 13:00', '2026-01-01 12:00+00', 3);
SELECT chronos.next_runs('every day at 23:59:30', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('Every 1 Day At 7:05', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('every week at 08:00', '2026-01-01 00:00+00', 2);
SELECT chronos.next_runs('every 2 weeks at 08:00:00', '2026-01-01 09:00+00', 2);

--
-- Daylight saving time in New York. Spring forward on 2026-03-08 (02:00 EST becomes 03:00 EDT), fall back on
-- 2026-11-01 (02:00 EDT becomes 01:00 EST, so 01:00-01:59 happens twice).
--
SET TimeZone = 'America/New_York';
-- a fixed hour fires once on the fall-back day, at the first 01:30
SELECT chronos.next_runs('30 1 * * *', '2026-10-31 12:00', 3);
-- ... and not again when `after` lies in the second pass through 01:00-01:59
SELECT chronos.next_runs('30 1 * * *', '2026-11-01 01:15-05', 1);
SELECT chronos.next_runs('30 1 * * *', '2026-11-01 01:45-05', 1);
-- every hour follows the wall clock as lived: the repeated hour fires twice
SELECT chronos.next_runs('0 * * * *', '2026-11-01 00:00-04', 4);
SELECT chronos.next_runs('*/30 * * * *', '2026-11-01 00:30-04', 5);
-- ... and the skipped hour not at all
SELECT chronos.next_runs('0 * * * *', '2026-03-08 00:30-05', 3);
-- a fixed hour inside the gap fires when the gap ends; every-days schedules do the same
SELECT chronos.next_runs('30 2 * * *', '2026-03-07 12:00', 3);
SELECT chronos.next_runs('every day at 02:30', '2026-03-07 12:00', 3);
SELECT chronos.next_runs('every day at 01:30', '2026-10-31 12:00', 3);
-- the zone may be given instead of set: the same instants, shown here in UTC
SET TimeZone = 'UTC';
SELECT chronos.next_runs('0 * * * *', '2026-11-01 04:00+00', 4, 'America/New_York');

--
-- Lord Howe Island moves its clocks by 30 minutes: back from 02:00 (+11) to 01:30 (+10:30) on 2026-04-05, forward from
-- 02:00 (+10:30) to 02:30 (+11) on 2026-10-04.
--
SET TimeZone = 'Australia/Lord_Howe';
SELECT chronos.next_runs('*/30 * * * *', '2026-04-05 00:45', 5);
SELECT chronos.next_runs('45 1 * * *', '2026-04-04 12:00', 3);
SELECT chronos.next_runs('0 * * * *', '2026-10-04 00:30', 4);
SELECT chronos.next_runs('15 2 * * *', '2026-10-03 12:00', 3);
SET TimeZone = 'UTC';

--
-- Kathmandu is 5:45 ahead of UTC; it moved from +05:30 to +05:45 at midnight on 1986-01-01, so that midnight never
-- happened and the first run of 1986 is at 00:15.
--
SELECT chronos.next_runs('0 9 * * *', '2026-01-01 00:00+00', 2, 'Asia/Kathmandu');
SET TimeZone = 'Asia/Kathmandu';
SELECT chronos.next_runs('0 0 1 1 *', '1985-06-01 00:00', 3);
SELECT chronos.next_runs('@every 12 hours', '2026-01-01 00:00', 2);
SET TimeZone = 'UTC';

--
-- Interval schedules are PostgreSQL's own `after + k * interval`, in the same zone. Each row compares 40 fire times
-- from each anchor with PostgreSQL's arithmetic; the anchors sit around DST changes and month ends.
--
CREATE TEMP TABLE interval_check (ordering int, schedule text, iv interval);
INSERT INTO interval_check VALUES
    (1, '1 day', '1 day'), (2, '1 month', '1 month'), (3, '2 hours', '2 hours'), (4, '1 day 2 hours', '1 day 2 hours'),
    (5, '1 week', '1 week'), (6, '1 year', '1 year'), (7, '25 hours', '25 hours'),
    (8, '1 mon 1 day 1 hour', '1 mon 1 day 1 hour'), (9, '1.5 days', '1.5 days'), (10, '2.5 months', '2.5 months'),
    (11, '1.25 years', '1.25 years'), (12, '1.7 weeks', '1.7 weeks'), (13, '1 day 00:00:01', '1 day 00:00:01'),
    (14, '@every 1 day', '1 day'), (15, 'every 3 days', '3 days'), (16, '@every 1h30m', '90 minutes'),
    (17, '@every 1d', '1 day');
CREATE TEMP TABLE anchor_check (a text);
INSERT INTO anchor_check VALUES
    ('2026-01-31 00:30'), ('2026-03-07 02:30'), ('2026-03-08 01:59:59'), ('2026-02-08 02:30'), ('2026-10-31 01:30'),
    ('2026-11-01 01:30 EDT'), ('2026-11-01 01:30 EST'), ('2024-02-29 02:30'), ('2026-04-04 01:45'),
    ('2026-10-03 02:15'), ('2026-03-28 01:30'), ('2026-10-24 01:30'), ('2026-12-31 23:59:59.5');
-- The anchors are read in the session zone; a missing or extra fire time counts as a mismatch.
PREPARE compare_with_postgres AS
SELECT c.schedule, count(*) AS compared,
       count(*) FILTER (WHERE n.r IS DISTINCT FROM a.a::timestamptz + k * c.iv) AS mismatches
  FROM interval_check c
 CROSS JOIN anchor_check a
 CROSS JOIN generate_series(1, 40) k
  LEFT JOIN LATERAL chronos.next_runs(c.schedule, a.a::timestamptz, 40) WITH ORDINALITY n(r, i) ON n.i = k
 GROUP BY c.schedule, c.ordering ORDER BY c.ordering;
SET TimeZone = 'America/New_York';
EXECUTE compare_with_postgres;
SET TimeZone = 'Australia/Lord_Howe';
EXECUTE compare_with_postgres;
SET TimeZone = 'Europe/London';
EXECUTE compare_with_postgres;
SET TimeZone = 'UTC';
DEALLOCATE compare_with_postgres;
-- The comparison can fail: a day is not 24 hours across the spring-forward, so from 02:30 EST on 2026-03-07 every fire
-- time but the first (03:30 EDT on 2026-03-08, which both reach) differs from `after + k * 24 hours`.
SET TimeZone = 'America/New_York';
SELECT count(*) AS compared,
       count(*) FILTER (WHERE r <> '2026-03-07 02:30'::timestamptz + k * interval '24 hours') AS mismatches
  FROM chronos.next_runs('1 day', '2026-03-07 02:30', 40) WITH ORDINALITY n(r, k);
SET TimeZone = 'UTC';

--
-- describe_schedule reads every form back in English, naming the zone it is evaluated in.
--
SELECT s.schedule, chronos.describe_schedule(s.schedule)
  FROM unnest(ARRAY[
    '* * * * *', '*/10 * * * *', '*/7 * * * *', '0 * * * *', '5 * * * *', '0,15,45 * * * *', '0 */2 * * *',
    '30 */3 * * *', '30 2 * * *', '0 9,17 * * *', '*/15 9-17 * * MON-FRI', '* 9-11,14 * * *', '0,15 1,5,7,9 * * *',
    '* * * * * *', '*/2 * * * * *', '30 * * * * *', '15 30 2 * * *', '*/10 * 9-17 * * *', '0 0 1 * *',
    '0 0 L * *', '0 0 1,15,$ * *', '0 0 29 2 *', '0 0 1 JAN,JUL *', '0 0 * 6-8 *', '0 12 * * MON,WED',
    '0 8 * * SAT,SUN', '0 0 * * 5L', '0 0 * * MON#2', '0 0 * * 1#1,1#3', '0 0 15 * MON', '@yearly', '@annually',
    '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '@every 1h30m', '@every 90s', '@every 1.5s',
    '@every 1 day 2 hours', '10 minutes', '1 year 6 months', 'every hour', 'every 2 weeks', '@after 1h',
    '@after 45 minutes', 'every day at 03:30', 'every 2 days at 23:59:30', 'every week at 08:00',
    'every 2 weeks at 08:00:00']) WITH ORDINALITY s(schedule, i)
 ORDER BY s.i;
SELECT chronos.describe_schedule('0 9 * * MON-FRI', 'Australia/Lord_Howe');
SELECT chronos.describe_schedule('every day at 06:00', 'Asia/Kathmandu');
SELECT chronos.describe_schedule(NULL) IS NULL AS null_schedule_has_no_description;
SELECT chronos.describe_schedule(NULL, 'UTC') IS NULL AS null_schedule_has_no_description;

--
-- Invalid schedules are refused with the field or token at fault (DETAIL) and a valid example (HINT).
--
-- a field value out of range or not valid
SELECT chronos.describe_schedule('61 * * * *');
SELECT chronos.describe_schedule('0 24 * * *');
SELECT chronos.describe_schedule('0 0 0 * *');
SELECT chronos.describe_schedule('0 0 * 13 *');
SELECT chronos.describe_schedule('0 0 * * FUNDAY');
SELECT chronos.describe_schedule('0 0 * * MON#6');
SELECT chronos.describe_schedule('? * * * *');
SELECT chronos.describe_schedule('1,,2 * * * *');
-- ranges and steps
SELECT chronos.describe_schedule('0 0 * * FRI-MON');
SELECT chronos.describe_schedule('*/0 * * * *');
SELECT chronos.describe_schedule('*/x * * * *');
-- the wrong number of fields
SELECT chronos.describe_schedule('0 0 * *');
SELECT chronos.describe_schedule('0 0 0 * * * *');
-- descriptors
SELECT chronos.describe_schedule('@fortnightly');
SELECT chronos.describe_schedule('@daily 03:00');
SELECT chronos.describe_schedule('@every');
-- intervals: unknown unit, too short, negative, no unit, a unit given twice
SELECT chronos.describe_schedule('@every 10 parsecs');
SELECT chronos.describe_schedule('10 fortnights');
SELECT chronos.describe_schedule('@every 500ms');
SELECT chronos.describe_schedule('@every 0s');
SELECT chronos.describe_schedule('0.5 seconds');
SELECT chronos.describe_schedule('-5 minutes');
SELECT chronos.describe_schedule('5 minutes ago');
SELECT chronos.describe_schedule('10');
SELECT chronos.describe_schedule('1 hour 2 hours');
-- cron that can never fire
SELECT chronos.next_runs('0 0 31 4,6 *');
SELECT chronos.next_runs('0 0 30,31 2 *');
-- every N days at a time of day
SELECT chronos.describe_schedule('every day at 25:00');
SELECT chronos.describe_schedule('every 2 days at 3pm');
SELECT chronos.describe_schedule('every 0 days at 03:00');
SELECT chronos.describe_schedule('every month at 03:00');
SELECT chronos.describe_schedule('every day at 03:00 and 15:00');
-- not a schedule at all
SELECT chronos.describe_schedule('hourly');
SELECT chronos.describe_schedule('');
SELECT chronos.describe_schedule('   ');

--
-- Arguments: the zone must exist; count runs from 0 to 10000; a NULL schedule, after or count gives no rows; `after`
-- must be finite; the engine works from year 1400 to year 9000.
--
SELECT chronos.next_runs('@daily', '2026-01-01 00:00+00', 1, 'Mars/Olympus_Mons');
SELECT chronos.describe_schedule('@daily', 'Nowhere/Special');
SELECT chronos.next_runs('@daily', '2026-01-01 00:00+00', -1);
SELECT chronos.next_runs('@daily', '2026-01-01 00:00+00', 10001);
SELECT count(*) FROM chronos.next_runs('@daily', '2026-01-01 00:00+00', 0);
SELECT count(*), min(r), max(r) FROM chronos.next_runs('* * * * * *', '2026-01-01 00:00+00', 10000) r;
SELECT count(*) FROM chronos.next_runs(NULL);
SELECT count(*) FROM chronos.next_runs(NULL, '2026-01-01 00:00+00', 5, 'UTC');
SELECT count(*) FROM chronos.next_runs('@daily', NULL, 5);
SELECT count(*) FROM chronos.next_runs('@daily', '2026-01-01 00:00+00', NULL);
SELECT chronos.next_runs('@daily', 'infinity', 1);
SELECT chronos.next_runs('@daily', '9500-01-01 00:00+00', 1);
SELECT chronos.next_runs('@daily', '1300-01-01 00:00+00', 1);
-- the default count is 5 (an untyped timestamp literal as second argument needs its type: it could also be the count
-- of the next_runs(task_name, count) overload)
SELECT count(*) FROM chronos.next_runs('@hourly', timestamptz '2026-01-01 00:00+00');

--
-- These errors carry SQLSTATE 22023 (invalid_parameter_value), which psql's default verbosity does not show.
--
DO $$
DECLARE
    tests text[] := ARRAY[
        $q$SELECT chronos.next_runs('0 0 30 2 *')$q$,
        $q$SELECT chronos.describe_schedule('@daily', 'Nowhere/Special')$q$,
        $q$SELECT chronos.next_runs('@daily', now(), 10001)$q$];
    test text;
    state text;
    message text;
BEGIN
    FOREACH test IN ARRAY tests LOOP
        BEGIN
            EXECUTE test;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            RAISE NOTICE '%: %', state, message;
        END;
    END LOOP;
END
$$;

--
-- Limits (docs/limits.md): intervals are at most 100 years; fire times lie from 1900-01-01 to 8999-12-31 (UTC).
--
SELECT chronos.describe_schedule('@every 100 years') AS longest;
SELECT chronos.describe_schedule('178000000 years');
SELECT chronos.describe_schedule('@after 2147483647 days');
SELECT chronos.describe_schedule('every 2147483647 days at 03:00');
-- a preview stops at the end of the range instead of failing
SELECT * FROM chronos.next_runs('@every 100 years', '8700-01-01 00:00+00', 10);
SELECT count(*) FROM chronos.next_runs('* * * * * *', '8999-12-31 23:59:50+00', 10000);
-- after must lie in the range: ±infinity and years past 8999 are 22008 errors; NULL arguments give no rows
SELECT * FROM chronos.next_runs('@daily', 'infinity', 3);
SELECT * FROM chronos.next_runs('@daily', '-infinity', 3);
SELECT * FROM chronos.next_runs('@daily', '9500-01-01 00:00+00', 3);
SELECT count(*) FROM chronos.next_runs(NULL, now(), 3);
SELECT count(*) FROM chronos.next_runs('@daily', NULL, 3);
SELECT count(*) FROM chronos.next_runs('@daily', now(), NULL);
SELECT * FROM chronos.next_runs('@daily', now(), -1);

-- A description is never cut, however long.
SELECT length(d) > 511 AS long, right(d, 40) AS ending
  FROM chronos.describe_schedule('0,1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35,37,39,41,43,45,47,49,51,53,55,57,59 '
                                 '0,1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35,37,39,41,43,45,47,49,51,53,55,57,59 '
                                 '1,3,5,7,9,11,13,15,17,19,21,23 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 '
                                 '1,3,5,7,9,11 1,3,5', 'America/Argentina/ComodRivadavia') d;

-- An error about a long non-ASCII schedule is cut at a character boundary, so it converts to LATIN1 and the real error
-- reaches the client (the schedule repeats chr(233), e-acute, which LATIN1 has; this output shows it in LATIN1).
SET client_encoding = 'LATIN1';
SELECT chronos.describe_schedule(repeat(chr(233), 3000));
SELECT chronos.describe_schedule('@every ' || repeat(chr(233), 3000));
SELECT chronos.describe_schedule('0 ' || repeat(chr(233), 3000) || ' * * *');
RESET client_encoding;
