using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Options;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Persistence;
using CallNotify.Infrastructure.Persistence.Postgres;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using InfrastructureSetup = CallNotify.Infrastructure.DependencyInjection;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// The batched statements' data source keeps one generic plan per prepared statement, so PostgreSQL does not plan the
/// callee lookup again on every run (ADR 0029); the service's other statements keep PostgreSQL's own choice.
/// </summary>
[NonParallelizable]
public sealed class GenericPlanTests
{
    private static readonly StoreBudgetOptions Budget = new() { WebhookBudgetMilliseconds = 4000 };

    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync()
    {
        _store = await TestStore.CreateAsync(StoreKind.Postgres);
        await using var db = new PostgresCallNotifyDbContext(
            (DbContextOptions<PostgresCallNotifyDbContext>)new DbContextOptionsBuilder<PostgresCallNotifyDbContext>().UseCallNotifyPostgres(_store.ConnectionString).Options);
        await db.Database.MigrateAsync();
    }

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [TestCase(true, TestName = "The batched statements' data source plans each lookup statement once")]
    [TestCase(false, TestName = "The other data source leaves the choice to PostgreSQL, which plans the lookup again")]
    public async Task TheCalleeLookupIsPlannedOnceOnTheBatchedDataSource(bool genericPlans)
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

        await using var command = dataSource.CreateCommand("""
            SELECT coalesce(sum(generic_plans), 0)::int, coalesce(sum(custom_plans), 0)::int, count(*)::int
            FROM pg_prepared_statements WHERE statement LIKE '%FROM unnest(%' AND (statement LIKE '%bindings%' OR statement LIKE '%live_sessions%')
            """);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.That(await reader.ReadAsync(), Is.True);
        var (generic, custom, statements) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2));
        TestContext.Out.WriteLine($"genericPlans={genericPlans}: {statements} prepared lookup statements, {generic} runs on a generic plan, {custom} on a custom plan");

        // Auto-prepare prepares a statement on its second use: the first run is not counted.
        Assert.That(statements, Is.EqualTo(2), "the binding and the session statements are prepared");
        if (genericPlans)
        {
            Assert.That(custom, Is.Zero, "no run is planned for its own arguments");
            Assert.That(generic, Is.EqualTo(2 * (lookups - 1)));
        }
        else
        {
            // PostgreSQL always plans the first five runs of a prepared statement for their arguments.
            Assert.That(custom, Is.GreaterThanOrEqualTo(2 * 5));
        }
    }

    [Test]
    public async Task OnlyTheBatchedDataSourceAsksForGenericPlansAndOptionsGivenAreKept()
    {
        static string? Options(NpgsqlDataSource dataSource) => new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Options;

        const string Server = "Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres";
        await using var batched = InfrastructureSetup.CreateDataSource(Server, Budget, genericPlans: true);
        await using var other = InfrastructureSetup.CreateDataSource(Server, Budget);
        await using var ownMode = InfrastructureSetup.CreateDataSource(Server + ";Options=-c plan_cache_mode=force_custom_plan", Budget, genericPlans: true);
        await using var ownOptions = InfrastructureSetup.CreateDataSource(Server + ";Options=-c search_path=public", Budget, genericPlans: true);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Options(batched), Is.EqualTo("-c plan_cache_mode=force_generic_plan"));
            Assert.That(Options(other), Is.Null.Or.Empty);
            Assert.That(Options(ownMode), Is.EqualTo("-c plan_cache_mode=force_custom_plan"), "a mode the operator chose is kept");
            Assert.That(Options(ownOptions), Is.EqualTo("-c search_path=public -c plan_cache_mode=force_generic_plan"));
        }
    }
}
