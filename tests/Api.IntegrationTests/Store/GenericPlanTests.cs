using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Options;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence.Postgres;
using Npgsql;
using InfrastructureSetup = CallNotify.Infrastructure.DependencyInjection;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// The batched statements' data source keeps one generic plan per prepared statement, so PostgreSQL does not plan the
/// binding lookup again on every run (ADR 0029); the session lookup and the service's other statements keep
/// PostgreSQL's own choice.
/// </summary>
[NonParallelizable]
public sealed class GenericPlanTests
{
    private static readonly StoreBudgetOptions Budget = new() { WebhookBudgetMilliseconds = 4000 };

    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync()
    {
        _store = await TestStore.CreateMigratedPostgresAsync();
    }

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [TestCase(true, TestName = "On the batched statements' data source the binding lookup is planned once, the session lookup as PostgreSQL chooses")]
    [TestCase(false, TestName = "On the other data source PostgreSQL plans the binding lookup again")]
    public async Task TheBindingLookupIsPlannedOnceOnTheBatchedDataSource(bool genericPlans)
    {
        // One connection, so that every lookup runs on the session whose prepared statements are read afterwards.
        await using var dataSource = InfrastructureSetup.CreateDataSource(_store.ConnectionString + ";Maximum Pool Size=1", Budget, genericPlans);
        const int lookups = 12;
        await using (var lookup = new PostgresCalleeLookup(dataSource))
        {
            for (var i = 0; i < lookups; i++)
            {
                await lookup.FindAsync(
                    AccountSid.Parse("AC0123456789abcdef0123456789abcdef"), ClientIdentity.Parse("plans-" + i), DateTimeOffset.UtcNow, CancellationToken.None);
            }
        }

        var bindings = await PlansAsync(dataSource, "%FROM bindings%");
        var sessions = await PlansAsync(dataSource, "%FROM live_sessions%");
        await using var mode = dataSource.CreateCommand("SHOW plan_cache_mode");
        var modeAfter = (string?)await mode.ExecuteScalarAsync();
        TestContext.Out.WriteLine($"genericPlans={genericPlans}: binding lookup {bindings.Generic} generic / {bindings.Custom} custom, session lookup {sessions.Generic} generic / {sessions.Custom} custom, then {modeAfter}");

        // Auto-prepare prepares a statement on its second use: the first run is not counted. PostgreSQL always plans
        // the first five runs of a prepared statement for their arguments unless told otherwise.
        using (Assert.EnterMultipleScope())
        {
            if (genericPlans)
            {
                Assert.That(bindings, Is.EqualTo((lookups - 1, 0)), "every run of the binding lookup on the one generic plan");
                Assert.That(modeAfter, Is.EqualTo("force_generic_plan"), "the connection's own setting is back after each round trip");
            }
            else
            {
                Assert.That(bindings.Custom, Is.GreaterThanOrEqualTo(5));
                Assert.That(modeAfter, Is.EqualTo("auto"));
            }

            Assert.That(sessions.Custom, Is.GreaterThanOrEqualTo(5), "the session lookup is left to PostgreSQL's choice");
        }
    }

    /// <summary>How the runs of the prepared statements of this connection that match <paramref name="pattern"/> were planned.</summary>
    private static async Task<(int Generic, int Custom)> PlansAsync(NpgsqlDataSource dataSource, string pattern)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT coalesce(sum(generic_plans), 0)::int, coalesce(sum(custom_plans), 0)::int
            FROM pg_prepared_statements WHERE statement LIKE '%FROM unnest(%' AND statement LIKE $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = pattern });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.That(await reader.ReadAsync(), Is.True);
        return (reader.GetInt32(0), reader.GetInt32(1));
    }

    [Test]
    public async Task OnlyTheBatchedDataSourceAsksForGenericPlansAndIndexScansAndOptionsGivenAreKept()
    {
        static string? Options(NpgsqlDataSource dataSource) => new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Options;

        const string Server = "Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres";
        await using var batched = InfrastructureSetup.CreateDataSource(Server, Budget, genericPlans: true);
        await using var other = InfrastructureSetup.CreateDataSource(Server, Budget);
        await using var ownMode = InfrastructureSetup.CreateDataSource(Server + ";Options=-c plan_cache_mode=force_custom_plan", Budget, genericPlans: true);
        await using var ownScans = InfrastructureSetup.CreateDataSource(Server + ";Options=-c enable_seqscan=on", Budget, genericPlans: true);
        await using var ownOptions = InfrastructureSetup.CreateDataSource(Server + ";Options=-c search_path=public", Budget, genericPlans: true);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Options(batched), Is.EqualTo("-c plan_cache_mode=force_generic_plan -c enable_seqscan=off"));
            Assert.That(Options(other), Is.Null.Or.Empty);
            Assert.That(Options(ownMode), Is.EqualTo("-c plan_cache_mode=force_custom_plan -c enable_seqscan=off"), "a mode the operator chose is kept");
            Assert.That(Options(ownScans), Is.EqualTo("-c enable_seqscan=on -c plan_cache_mode=force_generic_plan"), "so is a scan setting");
            Assert.That(Options(ownOptions), Is.EqualTo("-c search_path=public -c plan_cache_mode=force_generic_plan -c enable_seqscan=off"));
        }
    }
}
