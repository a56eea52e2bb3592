using System.Reflection;
using System.Text.RegularExpressions;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Infrastructure.Persistence;
using Npgsql;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// The hand-written SQL agrees with the EF Core model: every statement the Infrastructure keeps as a <c>…Sql</c>
/// constant is prepared (parsed, name-resolved and planned, not run) by PostgreSQL against the schema that the model's
/// migrations create, so a table or column named differently from the model fails here.
/// </summary>
public sealed partial class HandWrittenSqlTests
{
    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync()
    {
        _store = await TestStore.CreateMigratedPostgresAsync();
    }

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    /// <summary>
    /// Every static string (constant or read-only) of the Infrastructure whose name ends in <c>Sql</c>, by its type and
    /// name; not the migrations' data steps, which are written against the schema of their own migration (and tested
    /// by <c>DeliveryHistoryMigrationTests</c>).
    /// </summary>
    private static IEnumerable<TestCaseData> Statements() =>
        typeof(StoreConnection).Assembly.GetTypes()
            .Where(t => t.Namespace?.Contains(".Migrations", StringComparison.Ordinal) != true)
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                .Where(f => (f.IsLiteral || f.IsInitOnly) && f.FieldType == typeof(string) && f.Name.EndsWith("Sql", StringComparison.Ordinal))
                .Select(f => new TestCaseData((string)f.GetValue(null)!).SetArgDisplayNames($"{t.Name}.{f.Name}")));

    [Test]
    public void EveryStatementIsFound() =>
        Assert.That(Statements().Count(), Is.GreaterThanOrEqualTo(22), "the SQL constants of the store, presence, relay and migrations");

    [TestCaseSource(nameof(Statements))]
    public async Task PostgreSqlPreparesItAgainstTheModelsSchema(string sql) =>
        Assert.That(await PrepareAsync(sql), Is.Null);

    [Test]
    public async Task AColumnTheModelDoesNotHaveIsCaught() =>
        Assert.That(await PrepareAsync("SELECT d.no_such_column FROM deliveries d WHERE d.id = $1"), Does.Contain("no_such_column"));

    /// <summary>Null when PostgreSQL prepares the statement; else its error.</summary>
    private async Task<string?> PrepareAsync(string sql)
    {
        // Npgsql's named parameters (@name) become positional ones, as Npgsql itself rewrites them.
        var names = new List<string>();
        var positional = NamedParameter().Replace(sql, m =>
        {
            var index = names.IndexOf(m.Groups[1].Value);
            if (index < 0)
            {
                names.Add(m.Groups[1].Value);
                index = names.Count - 1;
            }

            return "$" + (index + 1);
        });

        await using var connection = new NpgsqlConnection(_store.ConnectionString);
        await connection.OpenAsync();
        try
        {
            await using var prepare = new NpgsqlCommand("PREPARE checked AS " + positional, connection);
            await prepare.ExecuteNonQueryAsync();
            return null;
        }
        catch (PostgresException ex)
        {
            return ex.MessageText;
        }
    }

    [GeneratedRegex(@"(?<![:\w])@(\w+)")]
    private static partial Regex NamedParameter();
}
