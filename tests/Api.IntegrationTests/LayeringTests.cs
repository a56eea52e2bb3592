
namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Each layer knows only its neighbours (docs/architecture.md): read from the built assemblies and, for the Api's
/// files, from the source, so that a new dependency across a layer fails here rather than in a review.
/// </summary>
public sealed class LayeringTests
{
    /// <summary>The Api's composition root: the only files that may name Infrastructure.</summary>
    private static readonly string[] CompositionRoot = ["Hosting/ServiceComposition.cs", "DependencyInjection.cs"];

    [Test]
    public void DomainReferencesNoOtherLayerAndNoPackage()
    {
        var references = typeof(Domain.Common.AccountSid).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.That(references.Where(n => !n.StartsWith("System", StringComparison.Ordinal) && n != "netstandard"), Is.Empty);
    }

    [Test]
    public void ApplicationKnowsNeitherInfrastructureNorAStoreNorAProvider()
    {
        var references = typeof(Application.DependencyInjection).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.That(references, Has.None.StartsWith("CallNotify.Infrastructure").And.None.StartsWith("Npgsql")
            .And.None.StartsWith("Microsoft.EntityFrameworkCore").And.None.StartsWith("Google"));
    }

    [Test]
    public void OnlyTheApisCompositionRootNamesInfrastructure()
    {
        var api = Path.Combine(RepositoryRoot(), "src", "Api");
        var offenders = Directory.EnumerateFiles(api, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => !CompositionRoot.Any(root => f.Replace('\\', '/').EndsWith("src/Api/" + root, StringComparison.Ordinal)))
            .Where(f => File.ReadAllText(f).Contains("CallNotify.Infrastructure", StringComparison.Ordinal)
                || File.ReadLines(f).Any(line => line.Contains("Infrastructure.", StringComparison.Ordinal) && !line.TrimStart().StartsWith("//", StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(api, f))
            .ToList();

        Assert.That(offenders, Is.Empty, "Api code outside the composition root uses Infrastructure");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CallNotify.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("CallNotify.sln not found above the test directory.");
    }
}
