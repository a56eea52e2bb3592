using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Infrastructure.Persistence.Postgres;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>The group commit on a real PostgreSQL server: shared transactions, durable before answering, faults kept apart.</summary>
[TestFixture]
public sealed class GroupCommitTests
{
    private TestStore _store = null!;
    private NpgsqlDataSource _dataSource = null!;

    [SetUp]
    public async Task SetUp()
    {
        _store = await TestStore.CreateAsync(StoreKind.Postgres);
        _dataSource = NpgsqlDataSource.Create(_store.ConnectionString);
        await using var create = _dataSource.CreateCommand("CREATE TABLE items (id int PRIMARY KEY, note text NOT NULL)");
        await create.ExecuteNonQueryAsync();
    }

    [TearDown]
    public async Task TearDown()
    {
        await _dataSource.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Test]
    public async Task ConcurrentWritesShareTransactionsAndEachIsVisibleOnceAnswered()
    {
        await using var groupCommit = new GroupCommit(_dataSource, NullLogger<GroupCommit>.Instance);
        const int writes = 400;
        var visibleWhenAnswered = new bool[writes];
        var transactionIds = new long[writes];

        await Task.WhenAll(Enumerable.Range(0, writes).Select(i => Task.Run(async () =>
        {
            var applied = await groupCommit.WriteAsync(new ItemInsert(i, "row " + i), CancellationToken.None);
            Assert.That(applied, Is.True);

            // Answered means committed: another connection sees the row at once.
            await using var check = _dataSource.CreateCommand("SELECT xmin::text::bigint FROM items WHERE id = $1");
            check.Parameters.Add(new NpgsqlParameter { Value = i });
            var xmin = await check.ExecuteScalarAsync();
            visibleWhenAnswered[i] = xmin is long;
            transactionIds[i] = xmin is long id ? id : -1;
        })));

        Assert.That(visibleWhenAnswered, Is.All.True);
        var transactions = transactionIds.Distinct().Count();
        TestContext.Out.WriteLine($"{writes} concurrent writes committed in {transactions} transactions");
        Assert.That(transactions, Is.LessThan(writes), "concurrent writes share transactions");
    }

    [Test]
    public async Task WritesThatMayWaitGatherIntoOneTransactionWhileTheOthersGoAtOnce()
    {
        var time = new FakeTimeProvider();
        await using var groupCommit = new GroupCommit(_dataSource, NullLogger<GroupCommit>.Instance, metrics: null, time);

        // Ten of each, one at a time. The ten that may wait are all queued within the linger, on a clock that moves only
        // when told: the first wakes the writer, which gathers until the linger is over.
        var waiting = new List<Task<bool>>();
        for (var i = 0; i < 10; i++)
        {
            waiting.Add(groupCommit.WriteAsync(new ItemInsert(i, "waits", mayWait: true), CancellationToken.None));
        }

        var all = Task.WhenAll(waiting);
        await Eventually.Until(
            () =>
            {
                time.Advance(GroupCommit.Linger);
                return Task.FromResult(all.IsCompleted);
            },
            done => done);
        Assert.That(await all, Is.All.True);
        for (var i = 10; i < 20; i++)
        {
            Assert.That(await groupCommit.WriteAsync(new ItemInsert(i, "urgent"), CancellationToken.None), Is.True);
        }

        await using var count = _dataSource.CreateCommand("SELECT note, count(DISTINCT xmin::text) FROM items GROUP BY note ORDER BY note");
        await using var reader = await count.ExecuteReaderAsync();
        var transactions = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            transactions[reader.GetString(0)] = reader.GetInt64(1);
        }

        TestContext.Out.WriteLine($"10 writes that may wait: {transactions["waits"]} transaction(s); 10 that may not, one after another: {transactions["urgent"]}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(transactions["waits"], Is.EqualTo(1), $"queued within {GroupCommit.Linger.TotalMilliseconds} ms of each other, they share a transaction");
            Assert.That(transactions["urgent"], Is.EqualTo(10), "a write an answer waits for is never held back");
        }
    }

    [Test]
    public async Task AFaultyStatementFailsAloneAndItsNeighboursStillCommit()
    {
        var log = new ReplayLog();
        await using var groupCommit = new GroupCommit(_dataSource, log);
        await groupCommit.WriteAsync(new ItemInsert(7, "first"), CancellationToken.None);

        // Queue many writes at once so the duplicate key lands in a batch with others.
        var tasks = Enumerable.Range(100, 60).Select(i => groupCommit.WriteAsync(new ItemInsert(i, "ok"), CancellationToken.None)).ToList();
        var duplicate = groupCommit.WriteAsync(new ItemInsert(7, "again"), CancellationToken.None);
        tasks.AddRange(Enumerable.Range(200, 60).Select(i => groupCommit.WriteAsync(new ItemInsert(i, "ok"), CancellationToken.None)));

        var error = await Assert.ThrowsAsync<PostgresException>(async () => await duplicate);
        Assert.That(error!.SqlState, Is.EqualTo(PostgresErrorCodes.UniqueViolation));
        Assert.That(await Task.WhenAll(tasks), Is.All.True);
        await using var count = _dataSource.CreateCommand("SELECT count(*) FROM items");
        Assert.That(await count.ExecuteScalarAsync(), Is.EqualTo(121L));
        Assert.That(log.Replays, Is.GreaterThan(0), "the duplicate shared a batch, which was replayed one by one");
    }

    [Test]
    public async Task AWriteThatCannotBeEncodedFailsAloneAndItsNeighboursStillCommit()
    {
        var log = new ReplayLog();
        await using var groupCommit = new GroupCommit(_dataSource, log);

        // A lone high surrogate has no UTF-8 form: Npgsql refuses to bind it before anything reaches the server.
        var tasks = Enumerable.Range(100, 60).Select(i => groupCommit.WriteAsync(new ItemInsert(i, "ok"), CancellationToken.None)).ToList();
        var unencodable = groupCommit.WriteAsync(new ItemInsert(7, "half an emoji \ud83d"), CancellationToken.None);
        tasks.AddRange(Enumerable.Range(200, 60).Select(i => groupCommit.WriteAsync(new ItemInsert(i, "ok"), CancellationToken.None)));

        Assert.That(async () => await unencodable, Throws.InstanceOf<Exception>());
        Assert.That(await Task.WhenAll(tasks), Is.All.True);
        await using var count = _dataSource.CreateCommand("SELECT count(*) FROM items");
        Assert.That(await count.ExecuteScalarAsync(), Is.EqualTo(120L));
        Assert.That(log.Replays, Is.GreaterThan(0), "the unencodable write shared a batch, which was replayed one by one");
    }

    [Test]
    public async Task AnUnreachableStoreFailsEveryWaitingWriteWithTheStoreError()
    {
        var unreachable = new NpgsqlConnectionStringBuilder(_store.ConnectionString) { Host = "127.0.0.1", Port = 1, Timeout = 2 };
        await using var dataSource = NpgsqlDataSource.Create(unreachable.ToString());
        await using var groupCommit = new GroupCommit(dataSource, NullLogger<GroupCommit>.Instance);

        var writes = Enumerable.Range(0, 5).Select(i => groupCommit.WriteAsync(new ItemInsert(i, "lost"), CancellationToken.None)).ToList();

        foreach (var write in writes)
        {
            await Assert.ThrowsAsync<NpgsqlException>(async () => await write);
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WritesBeyondTheQueueAreRefusedAtOnceWhileTheDatabaseHangs()
    {
        // A server that accepts connections and never answers: the writers' batches hang, the queue fills.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var hanging = new NpgsqlConnectionStringBuilder(_store.ConnectionString) { Host = "127.0.0.1", Port = port, Timeout = 20 };
        await using var dataSource = NpgsqlDataSource.Create(hanging.ToString());
        var groupCommit = new GroupCommit(dataSource, NullLogger<GroupCommit>.Instance);

        // Whatever the writers hold (at most a full batch each), at most MaxQueued more wait; the next is refused.
        var accepted = new List<Task<bool>>();
        Task<bool>? refused = null;
        for (var i = 0; i <= (GroupCommit.Writers * GroupCommit.MaxBatch) + GroupCommit.MaxQueued && refused is null; i++)
        {
            var write = groupCommit.WriteAsync(new ItemInsert(i, "waits"), CancellationToken.None);
            if (write.IsFaulted)
            {
                refused = write;
            }
            else
            {
                accepted.Add(write);
            }
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(refused, Is.Not.Null, "a write beyond the queue fails at once");
            Assert.That(refused?.Exception?.InnerException, Is.InstanceOf<CallNotify.Application.Common.Exceptions.StoreUnavailableException>());
            Assert.That(accepted, Has.Count.GreaterThanOrEqualTo(GroupCommit.MaxQueued));
            Assert.That(accepted.Count(t => t.IsCompleted), Is.Zero, "the queued writes are still waiting for the database");
        }

        silent.Stop();
        await groupCommit.DisposeAsync();
    }

    [Test]
    public async Task WritesOfOneKindShareOneStatementAndEachLearnsWhetherItWasApplied()
    {
        await using var groupCommit = new GroupCommit(_dataSource, NullLogger<GroupCommit>.Instance);
        await groupCommit.WriteAsync(new ItemInsert(1, "taken"), CancellationToken.None);

        // 1 is taken, and 2 comes twice: whichever runs first is applied, the other is not.
        var writes = new[] { 1, 2, 3, 2, 4 }.Select((id, i) => groupCommit.WriteAsync(new ItemInsert(id, "write " + i, onConflictDoNothing: true), CancellationToken.None)).ToList();
        var applied = await Task.WhenAll(writes);

        Assert.That(applied[0], Is.False, "an existing key is not applied");
        Assert.That(applied[1] ^ applied[3], Is.True, "exactly one of the two writes of key 2 is applied");
        Assert.That(applied[2] && applied[4], Is.True);
        await using var count = _dataSource.CreateCommand("SELECT count(*) FROM items");
        Assert.That(await count.ExecuteScalarAsync(), Is.EqualTo(4L));
    }

    /// <summary>A write kind for the test table: one multi-row INSERT for every write of a batch.</summary>
    private sealed class ItemInsert(int id, string note, bool onConflictDoNothing = false, bool mayWait = false)
        : GroupWrite(mayWait ? Waiting : onConflictDoNothing ? IgnoringDuplicates : Strict)
    {
        private static readonly GroupWriteKind Strict = new InsertKind(string.Empty);
        private static readonly GroupWriteKind IgnoringDuplicates = new InsertKind(" ON CONFLICT (id) DO NOTHING");
        private static readonly GroupWriteKind Waiting = new InsertKind(string.Empty, mayWait: true);

        private sealed class InsertKind(string onConflict, bool mayWait = false) : GroupWriteKind("insert items", Sql(onConflict))
        {
            public override bool MayWait => mayWait;

            private static string Sql(string onConflict) =>
                "WITH input AS (SELECT * FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS i(id, note, position)), " +
                    "inserted AS (INSERT INTO items (id, note) SELECT id, note FROM input ORDER BY position" + onConflict + " RETURNING id, note) " +
                    "SELECT input.position FROM input JOIN inserted ON inserted.id = input.id AND inserted.note = input.note";

            public override NpgsqlBatchCommand Build(IReadOnlyList<GroupWrite> writes)
            {
                var rows = writes.Cast<ItemInsert>().ToArray();
                var command = new NpgsqlBatchCommand(QueryText);
                command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. rows.Select(r => r.Id)] });
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. rows.Select(r => r.Note)] });
                return command;
            }
        }

        private int Id { get; } = id;

        private string Note { get; } = note;
    }

    private sealed class ReplayLog : ILogger<GroupCommit>
    {
        private int _replays;

        public int Replays => _replays;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning && formatter(state, exception).Contains("replaying", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _replays);
            }
        }
    }
}
