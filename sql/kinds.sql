-- HTTP and shell tasks as written: values checked by the trigger (22023), rights of the owner (42501), grants checked
-- by their own trigger. Tasks start in 2030 so that no worker runs them.
SET TimeZone = 'UTC';
\set VERBOSITY default
CREATE ROLE chronos_kinds_app NOLOGIN;
GRANT USAGE ON SCHEMA chronos TO chronos_kinds_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON chronos.tasks TO chronos_kinds_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA chronos TO chronos_kinds_app;
SELECT coalesce(max(id), 0) AS first_id FROM chronos.tasks \gset

-- A superuser may write any http or shell task.
INSERT INTO chronos.tasks (name, kind, command, start_time, http_method, http_headers, http_body)
VALUES ('post', 'http', 'https://api.example.com/hooks?x=1', '2030-01-01', 'POST', '{"X-Token": "t"}', 'body'),
       ('local', 'http', 'http://127.0.0.1:8080/', '2030-01-01', NULL, NULL, NULL),
       ('v6', 'http', 'http://[::1]:8080/', '2030-01-01', 'HEAD', NULL, NULL),
       ('shell', 'shell', 'echo hello', '2030-01-01', NULL, NULL, NULL);
SELECT name, kind, http_method, http_headers, http_body FROM chronos.tasks WHERE id > :first_id ORDER BY id;
INSERT INTO chronos.tasks (name, command, start_time) VALUES ('default', 'SELECT 1', '2030-01-01') RETURNING kind;

-- Values refused when written.
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'ftp://example.com/file', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'file:///etc/passwd', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'http://', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'example.com/no-scheme', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', E'http://example.com/\r\nX: 1', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, http_method, start_time) VALUES ('http', 'http://example.com/', 'get', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, http_method, http_body, start_time)
VALUES ('http', 'http://example.com/', 'GET', 'x', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, http_headers, start_time)
VALUES ('http', 'http://example.com/', '{"Bad Name": "x"}', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, http_headers, start_time)
VALUES ('http', 'http://example.com/', '{"X-A": "a\nb"}', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, http_headers, start_time)
VALUES ('http', 'http://example.com/', '{"Content-Length": "1"}', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, http_headers, start_time)
VALUES ('http', 'http://example.com/', '"X-A: 1"', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, transactional, start_time)
VALUES ('http', 'http://example.com/', true, '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('shell', '   ', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, http_method, start_time) VALUES ('shell', 'true', 'GET', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('sql', 'http://example.com/', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES (NULL, 'SELECT 1', '2030-01-01') RETURNING kind;

-- Rights: a role that is not a superuser.
SET ROLE chronos_kinds_app;
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('shell', 'id', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'https://api.example.com/', '2030-01-01');
INSERT INTO chronos.http_grants VALUES ('chronos_kinds_app', 'api.example.com');
RESET ROLE;
INSERT INTO chronos.http_grants VALUES ('chronos_kinds_app', 'api.example.com'), ('chronos_kinds_app', '*.hooks.example.com'),
                                       ('chronos_kinds_app', '10.0.0.0/8');
INSERT INTO chronos.http_grants VALUES ('chronos_kinds_app', 'https://api.example.com');
INSERT INTO chronos.http_grants VALUES ('chronos_kinds_app', '*');
INSERT INTO chronos.http_grants VALUES ('chronos_kinds_app', '10.0.0.0/33');
SET ROLE chronos_kinds_app;
INSERT INTO chronos.tasks (name, kind, command, start_time) VALUES
    ('granted name', 'http', 'https://API.example.com/v1', '2030-01-01'),
    ('granted wildcard', 'http', 'https://a.b.hooks.example.com/', '2030-01-01'),
    ('granted range', 'http', 'http://10.1.2.3:8080/', '2030-01-01');
SELECT name FROM chronos.tasks WHERE kind = 'http' AND id > :first_id ORDER BY id;
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'https://hooks.example.com/', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'http://11.0.0.1/', '2030-01-01');
INSERT INTO chronos.tasks (kind, command, start_time) VALUES ('http', 'http://localhost/', '2030-01-01');
UPDATE chronos.tasks SET command = 'http://169.254.169.254/' WHERE name = 'granted name';
UPDATE chronos.tasks SET kind = 'shell', command = 'id' WHERE name = 'granted range';
SELECT count(*) AS grants_seen FROM chronos.http_grants;
RESET ROLE;

DELETE FROM chronos.tasks WHERE id > :first_id;
DELETE FROM chronos.http_grants;
DROP OWNED BY chronos_kinds_app;
DROP ROLE chronos_kinds_app;
