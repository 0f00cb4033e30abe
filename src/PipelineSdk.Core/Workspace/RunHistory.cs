using System.Buffers.Binary;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PipelineSdk.Core.Compute;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Hashing;

namespace PipelineSdk.Core.Workspace;

/// <summary>One committed output of a step run: where it lies and what it holds.</summary>
public sealed record OutputRecord(string Datastore, string Path, string Hash, IReadOnlyDictionary<string, string> Files)
{
    /// <summary>Where the datastore was when the output was written (null: the workspace's default), so tools without the project (mlp gc) find it.</summary>
    public DatastoreLocation? Location { get; init; }
}

/// <summary>A datastore as a tool without the project finds it: a local folder, or a blob container and the variable holding its connection string.</summary>
public sealed record DatastoreLocation(string Kind, string Root, string? ConnectionVariable = null)
{
    public string Key => $"{Kind}:{Root}";
}

public sealed record StepRunRecord
{
    public required string Id { get; init; }
    public required string PipelineRunId { get; init; }
    public required string Step { get; init; }
    public required string Status { get; init; }
    public required bool Ran { get; init; }
    public required string Reason { get; init; }
    public string? ReusedFrom { get; init; }
    public string? Fingerprint { get; init; }
    public string? Snapshot { get; init; }
    public string? Compute { get; init; }
    public int? ExitCode { get; init; }
    public DateTimeOffset? Started { get; init; }
    public DateTimeOffset? Ended { get; init; }
    public string? LogPath { get; init; }
    public IReadOnlyDictionary<string, OutputRecord> Outputs { get; init; } = new Dictionary<string, OutputRecord>();
}

public sealed record PipelineRunRecord(
    string Id, string Experiment, string Project, string Status, DateTimeOffset Started, DateTimeOffset? Ended,
    IReadOnlyDictionary<string, string> Parameters, string? Summary, GitState? Git)
{
    /// <summary>The PipelineSdk version that ran it (<c>$(PipelineSdkVersion)</c>); null for runs recorded before versions were.</summary>
    public string? SdkVersion { get; init; }
}

/// <summary>One immutable version of a registered dataset: its files are the manifest of <see cref="Hash"/>, kept in the datastore's content store.</summary>
public sealed record DatasetVersionRecord(string Name, int Version, string Hash, string Datastore, string Source, DateTimeOffset Registered);

public static class RunStatus
{
    public const string Running = "Running";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Skipped = "Skipped";
    public const string Interrupted = "Interrupted";
    public const string Cancelled = "Cancelled";

    /// <summary>What a pipeline run can be (Skipped is only ever a step run's).</summary>
    public static readonly IReadOnlyList<string> OfPipelineRuns = [Running, Succeeded, Failed, Interrupted, Cancelled];
}

/// <summary>
/// The workspace database (SQLite): experiments, pipeline runs, step runs, fingerprint fields and the
/// stat cache. WAL mode and a busy timeout let concurrent builds share one workspace.
/// </summary>
public sealed class RunHistory : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _storedManifests = [];

    private RunHistory(SqliteConnection db, bool readOnly = false)
    {
        _db = db;
        IsReadOnly = readOnly;
    }

    /// <summary>Opened read-only, the workspace not being writable here: it is read, and nothing is recorded (not even the stat cache).</summary>
    public bool IsReadOnly { get; }

    /// <summary>
    /// Opens the run history, creating it when there is none. It is checked before anything writes to it: a file that is
    /// not an intact SQLite database is refused (<see cref="RunHistoryException"/>) and left as it is. When the workspace
    /// cannot be written, <paramref name="readOnlyFallback"/> opens it read-only (dry runs, readers); otherwise it is refused.
    /// </summary>
    public static RunHistory Open(string databasePath, bool readOnlyFallback = false)
    {
        if (!File.Exists(databasePath))
        {
            try { Create(databasePath); }
            catch (RunHistoryException) when (readOnlyFallback) { return Unrecorded(); }
        }
        var intact = OpenIntact(databasePath);
        RunHistory? writable;
        try
        {
            writable = OpenWritable(databasePath, out var why) ?? (readOnlyFallback ? null : throw RunHistoryException.NotWritable(databasePath, why!));
        }
        catch
        {
            intact.Dispose();
            throw;
        }
        if (writable is null) return new RunHistory(intact, readOnly: true);
        intact.Dispose();
        return writable;
    }

    /// <summary>The history of a workspace that has none and cannot be given one: empty, in memory, read-only like the workspace.</summary>
    private static RunHistory Unrecorded()
    {
        var db = Connection(":memory:", SqliteOpenMode.Memory);
        db.Open();
        var history = new RunHistory(db, readOnly: true);
        history.Prepare();
        return history;
    }

    private static SqliteConnection Connection(string dataSource, SqliteOpenMode mode) =>
        new(new SqliteConnectionStringBuilder { DataSource = dataSource, Mode = mode, Pooling = false, DefaultTimeout = 60 }.ToString());

    /// <summary>
    /// A new, empty history, made under a temporary name and moved into place whole: runs.db is then never seen empty,
    /// and an empty one is a history that was lost.
    /// </summary>
    private static void Create(string databasePath)
    {
        var fresh = $"{databasePath}.{Guid.NewGuid().ToString("N")[..8]}.new";
        try
        {
            using (var db = Connection(fresh, SqliteOpenMode.ReadWriteCreate))
            {
                db.Open();
                new RunHistory(db).Prepare();
            }
            File.Move(fresh, databasePath);
        }
        catch (IOException) when (File.Exists(databasePath)) { } // another build made it first: that one is used
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || IsNotWritable(e))
        {
            throw RunHistoryException.NotWritable(databasePath, e is SqliteException sqlite ? $"SQLite: {SQLiteSays(sqlite)}" : e.Message);
        }
        finally
        {
            if (File.Exists(fresh)) File.Delete(fresh);
        }
    }

    /// <summary>
    /// A read-only connection to the database, once it proved intact. Read-only so that nothing writes into a damaged file,
    /// not even the checkpoint of a write-ahead log left beside it, which a read-write connection makes when it closes.
    /// </summary>
    private static SqliteConnection OpenIntact(string databasePath)
    {
        Span<byte> header = stackalloc byte[100];
        using (var file = File.OpenHandle(databasePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            var read = RandomAccess.Read(file, header, 0);
            if (read == 0) throw RunHistoryException.Damaged(databasePath, "it is empty (0 bytes), and PipelineSdk never leaves a history empty: what it held is lost");
            if (read < header.Length || !header[..16].SequenceEqual("SQLite format 3\0"u8))
                throw RunHistoryException.Damaged(databasePath, "it is not a SQLite database (it does not start with 'SQLite format 3')");
            // The header's page count is valid when its version-valid-for number equals the change counter (SQLite's file format, 1.3):
            // a file shorter than that count is truncated. Checked from the header alone, so the cost does not grow with the history.
            var pageSize = BinaryPrimitives.ReadUInt16BigEndian(header[16..]) is var size && size == 1 ? 65536L : size;
            var pages = BinaryPrimitives.ReadUInt32BigEndian(header[28..]);
            var counted = BinaryPrimitives.ReadUInt32BigEndian(header[92..]) == BinaryPrimitives.ReadUInt32BigEndian(header[24..]);
            var length = RandomAccess.GetLength(file);
            if (pageSize < 512 || length % pageSize != 0 || (counted && length < pages * pageSize))
                throw RunHistoryException.Damaged(databasePath, $"it is cut short or torn ({length} bytes, where its header says {(counted ? pages * pageSize : pageSize)})");
        }
        SqliteConnection? db = null;
        try
        {
            db = OpenReadOnly(databasePath);
            // A first read of the schema: SQLite refuses a file whose structure it cannot read.
            using var check = db.CreateCommand();
            check.CommandText = "SELECT count(*) FROM sqlite_master";
            check.ExecuteScalar();
            return db;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SQLitePCL.raw.SQLITE_CORRUPT or SQLitePCL.raw.SQLITE_NOTADB)
        {
            db?.Dispose();
            throw RunHistoryException.Damaged(databasePath, $"SQLite finds it corrupt ({SQLiteSays(e)})");
        }
        catch
        {
            db?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Read-only. A WAL database needs its -shm file to be read, which a read-only mount cannot hold: there the file is
    /// opened as immutable, as it lies on disk (nobody here can have added to its log).
    /// </summary>
    private static SqliteConnection OpenReadOnly(string databasePath)
    {
        var db = Connection(databasePath, SqliteOpenMode.ReadOnly);
        try
        {
            db.Open();
            using var probe = db.CreateCommand();
            probe.CommandText = "PRAGMA schema_version";
            probe.ExecuteScalar();
            return db;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SQLitePCL.raw.SQLITE_CANTOPEN)
        {
            db.Dispose();
            db = Connection($"{new Uri(databasePath).AbsoluteUri}?immutable=1", SqliteOpenMode.ReadOnly);
            db.Open();
            return db;
        }
    }

    /// <summary>The history read-write, or null (and why) when this workspace cannot be written.</summary>
    private static RunHistory? OpenWritable(string databasePath, out string? why)
    {
        var db = Connection(databasePath, SqliteOpenMode.ReadWrite);
        try
        {
            db.Open();
            // SQLite opens a file it may not write read-only without a word; the run's first record would then fail.
            why = SQLitePCL.raw.sqlite3_db_readonly(db.Handle, "main") == 1 ? $"{Path.GetFileName(databasePath)} can only be opened for reading" : null;
            if (why is null)
            {
                var history = new RunHistory(db);
                history.Prepare();
                return history;
            }
        }
        catch (SqliteException e) when (IsNotWritable(e))
        {
            why = $"SQLite: {SQLiteSays(e)}";
        }
        catch
        {
            db.Dispose();
            throw;
        }
        db.Dispose();
        return null;
    }

    /// <summary>The error in SQLite's words, without Microsoft.Data.Sqlite's "SQLite Error 14: '…'." around them.</summary>
    private static string SQLiteSays(SqliteException e) => SQLitePCL.raw.sqlite3_errstr(e.SqliteErrorCode).utf8_to_string();

    /// <summary>SQLite's errors for a file or folder it may not write (CANTOPEN: the -wal or -shm beside the database could not be made).</summary>
    private static bool IsNotWritable(Exception e) =>
        e is SqliteException { SqliteErrorCode: SQLitePCL.raw.SQLITE_READONLY or SQLitePCL.raw.SQLITE_CANTOPEN or SQLitePCL.raw.SQLITE_PERM };

    /// <summary>WAL and a busy timeout let concurrent builds share the database; the schema is brought up to this version.</summary>
    private void Prepare()
    {
        Execute("PRAGMA busy_timeout = 60000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        Execute(Schema);
        Migrate();
    }

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS experiments (name TEXT PRIMARY KEY, created TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS pipeline_runs (
            id TEXT PRIMARY KEY, experiment TEXT NOT NULL REFERENCES experiments(name), project TEXT NOT NULL,
            status TEXT NOT NULL, started TEXT NOT NULL, ended TEXT, parameters TEXT NOT NULL, summary TEXT,
            host_pid INTEGER NOT NULL, host_started TEXT NOT NULL,
            git_repository TEXT, git_branch TEXT, git_commit TEXT, git_dirty INTEGER, sdk_version TEXT);
        CREATE TABLE IF NOT EXISTS step_runs (
            id TEXT PRIMARY KEY, pipeline_run TEXT NOT NULL REFERENCES pipeline_runs(id), step TEXT NOT NULL,
            status TEXT NOT NULL, ran INTEGER NOT NULL, reason TEXT NOT NULL, reused_from TEXT, fingerprint TEXT,
            snapshot TEXT, compute TEXT, exit_code INTEGER, started TEXT, ended TEXT, log_path TEXT, outputs TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS step_runs_by_fingerprint ON step_runs (fingerprint, status, ran);
        CREATE INDEX IF NOT EXISTS step_runs_by_step ON step_runs (step, ended);
        CREATE TABLE IF NOT EXISTS metrics (
            step_run TEXT NOT NULL REFERENCES step_runs(id), name TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
            seq INTEGER NOT NULL, logged TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS metrics_by_step_run ON metrics (step_run, seq);
        CREATE TABLE IF NOT EXISTS tags (step_run TEXT NOT NULL REFERENCES step_runs(id), name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (step_run, name));
        CREATE TABLE IF NOT EXISTS artifacts (
            step_run TEXT NOT NULL REFERENCES step_runs(id), name TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (step_run, name));
        CREATE TABLE IF NOT EXISTS fingerprints (fingerprint TEXT PRIMARY KEY, fields TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS manifests (hash TEXT PRIMARY KEY, files TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS tabular_schemas (hash TEXT PRIMARY KEY, schema TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS dataset_versions (
            name TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL REFERENCES manifests(hash), datastore TEXT NOT NULL,
            source TEXT NOT NULL, registered TEXT NOT NULL, PRIMARY KEY (name, version));
        CREATE TABLE IF NOT EXISTS stat_cache (directory TEXT PRIMARY KEY, entries BLOB NOT NULL);
        """;

    /// <summary>Brings a database written by an earlier version up to this schema (PRAGMA user_version counts versions).</summary>
    private void Migrate()
    {
        using var version = Command("PRAGMA user_version");
        if ((long)version.ExecuteScalar()! >= SchemaVersion) return;
        foreach (var (column, definition) in AddedColumns)
        {
            using var present = Command("SELECT count(*) FROM pragma_table_info('pipeline_runs') WHERE name = $c", ("$c", column));
            if ((long)present.ExecuteScalar()! == 0) Execute($"ALTER TABLE pipeline_runs ADD COLUMN {column} {definition}");
        }
        // Version 2 kept one row per file; the stat cache is only a cache, so it starts over.
        Execute("DROP TABLE IF EXISTS file_hashes");
        Execute($"PRAGMA user_version = {SchemaVersion}");
    }

    private const int SchemaVersion = 4;

    /// <summary>Columns of pipeline_runs that later versions added (new tables need nothing: CREATE IF NOT EXISTS).</summary>
    private static readonly (string Column, string Definition)[] AddedColumns =
    [
        ("host_pid", "INTEGER NOT NULL DEFAULT 0"), ("host_started", "TEXT NOT NULL DEFAULT 'gone'"),
        ("git_repository", "TEXT"), ("git_branch", "TEXT"), ("git_commit", "TEXT"), ("git_dirty", "INTEGER"), ("sdk_version", "TEXT"),
    ];

    public void StartPipelineRun(string id, string experiment, string project, IReadOnlyDictionary<string, string> parameters, GitState? git, string? sdkVersion)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            Execute("INSERT OR IGNORE INTO experiments (name, created) VALUES ($e, $t)", ("$e", experiment), ("$t", Now()));
            Execute("""
                INSERT INTO pipeline_runs (id, experiment, project, status, started, parameters, host_pid, host_started, git_repository, git_branch, git_commit, git_dirty, sdk_version)
                VALUES ($id, $e, $p, $s, $t, $params, $pid, $pidStarted, $repo, $branch, $commit, $dirty, $sdk)
                """,
                ("$id", id), ("$e", experiment), ("$p", project), ("$s", RunStatus.Running), ("$t", Now()), ("$params", JsonSerializer.Serialize(parameters, HistoryJson.Default.IReadOnlyDictionaryStringString)),
                ("$pid", Environment.ProcessId), ("$pidStarted", ProcessIdentity.Of(Environment.ProcessId)!.Value.Started),
                ("$repo", git?.Repository), ("$branch", git?.Branch), ("$commit", git?.Commit), ("$dirty", git is null ? null : git.Dirty ? 1 : 0), ("$sdk", sdkVersion));
            tx.Commit();
        }
    }

    /// <summary>
    /// Marks as Interrupted every Running pipeline run whose build process is gone (killed, crashed),
    /// identified by its pid and that process's start time, so a reused pid is not mistaken for it.
    /// </summary>
    public IReadOnlyList<string> MarkInterruptedRuns()
    {
        lock (_lock)
        {
            var running = new List<(string Id, int Pid, string Started)>();
            using (var cmd = Command("SELECT id, host_pid, host_started FROM pipeline_runs WHERE status = $s", ("$s", RunStatus.Running)))
            using (var reader = cmd.ExecuteReader())
                while (reader.Read()) running.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2)));
            var gone = running.Where(r => !new ProcessIdentity(r.Pid, r.Started).IsRunning).Select(r => r.Id).ToList();
            foreach (var id in gone)
                Execute("UPDATE pipeline_runs SET status = $s, ended = $t, summary = $sum WHERE id = $id AND status = 'Running'",
                    ("$s", RunStatus.Interrupted), ("$t", Now()), ("$sum", "the build process ended before the run finished"), ("$id", id));
            return gone;
        }
    }

    /// <summary>Whether a Running pipeline run's build process is still there (a killed build's run stays Running until the next build).</summary>
    public bool IsBuildAlive(string pipelineRunId)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT host_pid, host_started FROM pipeline_runs WHERE id = $id AND status = $s", ("$id", pipelineRunId), ("$s", RunStatus.Running));
            using var reader = cmd.ExecuteReader();
            return reader.Read() && new ProcessIdentity(reader.GetInt32(0), reader.GetString(1)).IsRunning;
        }
    }

    public void FinishPipelineRun(string id, string status, string summary)
    {
        lock (_lock)
            Execute("UPDATE pipeline_runs SET status = $s, ended = $t, summary = $sum WHERE id = $id", ("$s", status), ("$t", Now()), ("$sum", summary), ("$id", id));
    }

    public void RecordStepRun(StepRunRecord r, StepFingerprint? fingerprint, StepTelemetry? telemetry = null)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            if (fingerprint is not null)
            {
                Execute("INSERT OR IGNORE INTO fingerprints (fingerprint, fields) VALUES ($f, $fields)", ("$f", fingerprint.Value), ("$fields", JsonSerializer.Serialize(fingerprint.Fields, HistoryJson.Default.IReadOnlyDictionaryStringString)));
                // A manifest is stored once per content: serializing 10,000 file hashes for every reused step would dominate a no-op build.
                foreach (var group in fingerprint.Groups.Values) StoreManifest(group);
            }
            Execute("""
                INSERT INTO step_runs (id, pipeline_run, step, status, ran, reason, reused_from, fingerprint, snapshot, compute, exit_code, started, ended, log_path, outputs)
                VALUES ($id, $p, $step, $status, $ran, $reason, $from, $fp, $snap, $compute, $exit, $started, $ended, $log, $outputs)
                """,
                ("$id", r.Id), ("$p", r.PipelineRunId), ("$step", r.Step), ("$status", r.Status), ("$ran", r.Ran ? 1 : 0), ("$reason", r.Reason),
                ("$from", r.ReusedFrom), ("$fp", r.Fingerprint), ("$snap", r.Snapshot), ("$compute", r.Compute), ("$exit", r.ExitCode),
                ("$started", r.Started?.ToString("O")), ("$ended", r.Ended?.ToString("O")), ("$log", r.LogPath), ("$outputs", JsonSerializer.Serialize(r.Outputs, HistoryJson.Default.IReadOnlyDictionaryStringOutputRecord)));
            foreach (var m in telemetry?.Metrics ?? [])
                Execute("INSERT INTO metrics (step_run, name, kind, value, seq, logged) VALUES ($r, $n, $k, $v, $s, $t)",
                    ("$r", r.Id), ("$n", m.Name), ("$k", m.Kind), ("$v", m.ValueJson), ("$s", m.Sequence), ("$t", m.Logged.ToString("O")));
            foreach (var (name, value) in telemetry?.Tags ?? [])
                Execute("INSERT OR REPLACE INTO tags (step_run, name, value) VALUES ($r, $n, $v)", ("$r", r.Id), ("$n", name), ("$v", value));
            foreach (var a in telemetry?.Artifacts ?? [])
                Execute("INSERT OR REPLACE INTO artifacts (step_run, name, path, size) VALUES ($r, $n, $p, $s)", ("$r", r.Id), ("$n", a.Name), ("$p", a.Path), ("$s", a.Size));
            tx.Commit();
        }
    }

    /// <summary>The most recent step run that really executed with this fingerprint and succeeded.</summary>
    public StepRunRecord? FindReusable(string fingerprint) =>
        QueryStepRuns("WHERE fingerprint = $f AND status = 'Succeeded' AND ran = 1 ORDER BY ended DESC LIMIT 1", ("$f", fingerprint)).FirstOrDefault();

    /// <summary>The most recent run of a step in an experiment that got as far as a fingerprint.</summary>
    public StepRunRecord? LatestStepRun(string experiment, string step) =>
        QueryStepRuns("WHERE step = $s AND fingerprint IS NOT NULL AND pipeline_run IN (SELECT id FROM pipeline_runs WHERE experiment = $e) ORDER BY ended DESC LIMIT 1",
            ("$s", step), ("$e", experiment)).FirstOrDefault();

    public IReadOnlyList<StepRunRecord> StepRuns(string pipelineRunId) =>
        QueryStepRuns("WHERE pipeline_run = $p ORDER BY started, id", ("$p", pipelineRunId));

    public PipelineRunRecord? PipelineRun(string id) => PipelineRuns("WHERE id = $id", ("$id", id)).FirstOrDefault();

    public IReadOnlyList<PipelineRunRecord> PipelineRuns(string where = "", params (string, object?)[] args)
    {
        lock (_lock)
        {
            using var cmd = Command($"""
                SELECT id, experiment, project, status, started, ended, parameters, summary, git_repository, git_branch, git_commit, git_dirty, sdk_version
                FROM pipeline_runs {where} ORDER BY started
                """, args);
            using var reader = cmd.ExecuteReader();
            var list = new List<PipelineRunRecord>();
            while (reader.Read())
            {
                string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                var git = S(10) is { } commit ? new GitState(S(8), S(9), commit, reader.GetInt64(11) == 1) : null;
                list.Add(new PipelineRunRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    DateTimeOffset.Parse(reader.GetString(4)), S(5) is { } ended ? DateTimeOffset.Parse(ended) : null,
                    JsonSerializer.Deserialize(reader.GetString(6), HistoryJson.Default.DictionaryStringString)!, S(7), git) { SdkVersion = S(12) });
            }
            return list;
        }
    }

    /// <summary>What a step run logged, in logging order; for a reused step run, what the run it reused logged.</summary>
    public IReadOnlyList<MetricRecord> Metrics(string stepRunId)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT kind, name, value, logged, seq FROM metrics WHERE step_run = $r ORDER BY seq", ("$r", Origin(stepRunId)));
            using var reader = cmd.ExecuteReader();
            var list = new List<MetricRecord>();
            while (reader.Read())
                list.Add(new MetricRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.Parse(reader.GetString(3)), reader.GetInt32(4)));
            return list;
        }
    }

    public IReadOnlyDictionary<string, string> Tags(string stepRunId)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT name, value FROM tags WHERE step_run = $r ORDER BY name", ("$r", Origin(stepRunId)));
            using var reader = cmd.ExecuteReader();
            var tags = new SortedDictionary<string, string>(StringComparer.Ordinal);
            while (reader.Read()) tags[reader.GetString(0)] = reader.GetString(1);
            return tags;
        }
    }

    public IReadOnlyList<ArtifactRecord> Artifacts(string stepRunId)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT name, path, size FROM artifacts WHERE step_run = $r ORDER BY name", ("$r", Origin(stepRunId)));
            using var reader = cmd.ExecuteReader();
            var list = new List<ArtifactRecord>();
            while (reader.Read()) list.Add(new ArtifactRecord(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            return list;
        }
    }

    /// <summary>The step run that really executed: a reused step run's telemetry is that of the run it reused.</summary>
    private string Origin(string stepRunId)
    {
        using var cmd = Command("SELECT coalesce(reused_from, id) FROM step_runs WHERE id = $r", ("$r", stepRunId));
        return cmd.ExecuteScalar() as string ?? stepRunId;
    }

    private void StoreManifest(FileGroup group)
    {
        if (_storedManifests.Contains(group.Hash)) return;
        using var stored = Command("SELECT count(*) FROM manifests WHERE hash = $h", ("$h", group.Hash));
        if ((long)stored.ExecuteScalar()! == 0)
            Execute("INSERT INTO manifests (hash, files) VALUES ($h, $files)", ("$h", group.Hash), ("$files", JsonSerializer.Serialize(group.Files, HistoryJson.Default.IReadOnlyDictionaryStringString)));
        _storedManifests.Add(group.Hash);
    }

    /// <summary>
    /// Registers <paramref name="files"/> as the next version of dataset <paramref name="name"/>, unless its latest
    /// version already holds exactly these files; returns that version and whether it is new. The caller has put
    /// the files in the datastore's content store first, so a version never names content that is not kept.
    /// </summary>
    public (DatasetVersionRecord Version, bool Created) RegisterDataset(string name, FileGroup files, string datastore, string source)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            var latest = DatasetVersion(name, null);
            if (latest?.Hash == files.Hash) return (latest, false);
            StoreManifest(files);
            var record = new DatasetVersionRecord(name, (latest?.Version ?? 0) + 1, files.Hash, datastore, source, DateTimeOffset.UtcNow);
            Execute("INSERT INTO dataset_versions (name, version, hash, datastore, source, registered) VALUES ($n, $v, $h, $d, $s, $t)",
                ("$n", name), ("$v", record.Version), ("$h", record.Hash), ("$d", datastore), ("$s", source), ("$t", record.Registered.ToString("O")));
            tx.Commit();
            return (record, true);
        }
    }

    /// <summary>A version of a registered dataset (null: the latest), or null when there is none.</summary>
    public DatasetVersionRecord? DatasetVersion(string name, int? version)
    {
        lock (_lock)
            return QueryDatasetVersions(version is null
                ? "WHERE name = $n ORDER BY version DESC LIMIT 1"
                : "WHERE name = $n AND version = $v", ("$n", name), ("$v", version)).FirstOrDefault();
    }

    /// <summary>Every version of every registered dataset (or of one), by name then version.</summary>
    public IReadOnlyList<DatasetVersionRecord> DatasetVersions(string? name = null)
    {
        lock (_lock)
            return name is null ? QueryDatasetVersions("ORDER BY name, version") : QueryDatasetVersions("WHERE name = $n ORDER BY version", ("$n", name));
    }

    private List<DatasetVersionRecord> QueryDatasetVersions(string where, params (string, object?)[] args)
    {
        using var cmd = Command($"SELECT name, version, hash, datastore, source, registered FROM dataset_versions {where}", args);
        using var reader = cmd.ExecuteReader();
        var list = new List<DatasetVersionRecord>();
        while (reader.Read())
            list.Add(new DatasetVersionRecord(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), DateTimeOffset.Parse(reader.GetString(5))));
        return list;
    }

    /// <summary>Keeps the schema inferred for a tabular input's content (its file group hash).</summary>
    public void RecordTabularSchema(string hash, string schemaJson)
    {
        lock (_lock) Execute("INSERT OR REPLACE INTO tabular_schemas (hash, schema) VALUES ($h, $s)", ("$h", hash), ("$s", schemaJson));
    }

    public string? TabularSchema(string hash)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT schema FROM tabular_schemas WHERE hash = $h", ("$h", hash));
            return cmd.ExecuteScalar() as string;
        }
    }

    /// <summary>The files (relative path → content hash) behind a file group's hash, if it was ever recorded.</summary>
    public IReadOnlyDictionary<string, string>? Manifest(string hash)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT files FROM manifests WHERE hash = $h", ("$h", hash));
            return cmd.ExecuteScalar() is string json ? JsonSerializer.Deserialize(json, HistoryJson.Default.DictionaryStringString) : null;
        }
    }

    public IReadOnlyDictionary<string, string>? FingerprintFields(string fingerprint)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT fields FROM fingerprints WHERE fingerprint = $f", ("$f", fingerprint));
            return cmd.ExecuteScalar() is string json ? JsonSerializer.Deserialize(json, HistoryJson.Default.DictionaryStringString) : null;
        }
    }

    /// <summary>A file hash cache backed by this database, loading one folder's entries at a time.</summary>
    public FileHashCache FileHashes() => new(LoadHashes);

    /// <summary>
    /// The stat cache keeps one row per folder with its files' entries packed in a blob: loading 100,000
    /// entries is then a thousand row reads in one query instead of 100,000, which was most of a no-op fingerprint.
    /// </summary>
    private IEnumerable<KeyValuePair<string, Dictionary<string, CachedHash>>> LoadHashes(string directory, bool wholeTree)
    {
        var rows = new List<(string Folder, byte[] Entries)>();
        lock (_lock)
        {
            // The folders below 'd' sort between "d/" and "d0" ('0' follows '/'), so the primary key index serves the range.
            using var cmd = Command(wholeTree
                ? "SELECT directory, entries FROM stat_cache WHERE directory = $d OR (directory >= $d || '/' AND directory < $d || '0')"
                : "SELECT directory, entries FROM stat_cache WHERE directory = $d", ("$d", directory));
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) rows.Add((reader.GetString(0), (byte[])reader.GetValue(1)));
        }
        // Decoding is most of a no-op fingerprint of a big tree: on every core.
        var folders = new KeyValuePair<string, Dictionary<string, CachedHash>>[rows.Count];
        ParallelLoop.For(rows.Count, i => folders[i] = KeyValuePair.Create(rows[i].Folder, Unpack(rows[i].Entries)), perThread: 16);
        return folders;
    }

    /// <summary>Merges the changed entries into their folders' rows.</summary>
    public void SaveFileHashes(IReadOnlyDictionary<string, CachedHash> changed)
    {
        // Read-only, the cache is not kept: it only saves the next build hashing again.
        if (changed.Count == 0 || IsReadOnly) return;
        lock (_lock)
        {
            using var tx = _db.BeginTransaction();
            foreach (var folder in changed.GroupBy(c => Path.GetDirectoryName(c.Key)!))
            {
                var entries = ReadDirectory(folder.Key);
                foreach (var (path, entry) in folder) entries[Path.GetFileName(path)] = entry;
                Execute("INSERT OR REPLACE INTO stat_cache (directory, entries) VALUES ($d, $e)", ("$d", folder.Key), ("$e", Pack(entries)));
            }
            tx.Commit();
        }
    }

    private Dictionary<string, CachedHash> ReadDirectory(string directory)
    {
        using var cmd = Command("SELECT entries FROM stat_cache WHERE directory = $d", ("$d", directory));
        return cmd.ExecuteScalar() is byte[] blob ? Unpack(blob) : new Dictionary<string, CachedHash>(StringComparer.Ordinal);
    }

    private static Dictionary<string, CachedHash> Unpack(byte[] blob)
    {
        var entries = new Dictionary<string, CachedHash>(StringComparer.Ordinal);
        using var reader = new BinaryReader(new MemoryStream(blob));
        for (var count = reader.ReadInt32(); count > 0; count--)
        {
            var name = reader.ReadString();
            var stat = new FileStat(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
            entries[name] = new CachedHash(stat, reader.ReadString(), reader.ReadInt64());
        }
        return entries;
    }

    private static byte[] Pack(Dictionary<string, CachedHash> entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(entries.Count);
            foreach (var (name, e) in entries)
            {
                writer.Write(name);
                writer.Write(e.Stat.Size);
                writer.Write(e.Stat.MTimeNs);
                writer.Write(e.Stat.Inode);
                writer.Write(e.Hash);
                writer.Write(e.HashedAtNs);
            }
        }
        return buffer.ToArray();
    }

    public void Dispose() => _db.Dispose();

    private IReadOnlyList<StepRunRecord> QueryStepRuns(string where, params (string, object?)[] args)
    {
        lock (_lock)
        {
            using var cmd = Command($"SELECT id, pipeline_run, step, status, ran, reason, reused_from, fingerprint, snapshot, compute, exit_code, started, ended, log_path, outputs FROM step_runs {where}", args);
            using var reader = cmd.ExecuteReader();
            var list = new List<StepRunRecord>();
            while (reader.Read())
            {
                string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                list.Add(new StepRunRecord
                {
                    Id = reader.GetString(0), PipelineRunId = reader.GetString(1), Step = reader.GetString(2), Status = reader.GetString(3),
                    Ran = reader.GetInt64(4) == 1, Reason = reader.GetString(5), ReusedFrom = S(6), Fingerprint = S(7), Snapshot = S(8),
                    Compute = S(9), ExitCode = reader.IsDBNull(10) ? null : reader.GetInt32(10),
                    Started = S(11) is { } st ? DateTimeOffset.Parse(st) : null, Ended = S(12) is { } en ? DateTimeOffset.Parse(en) : null,
                    LogPath = S(13), Outputs = JsonSerializer.Deserialize(reader.GetString(14), HistoryJson.Default.DictionaryStringOutputRecord)!,
                });
            }
            return list;
        }
    }

    private void Execute(string sql, params (string, object?)[] args)
    {
        using var cmd = Command(sql, args);
        cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] args)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("O");
}
