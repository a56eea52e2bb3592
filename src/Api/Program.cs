using CallNotify.Api.Hosting;

// CallNotify's entry point, as a table of contents: each step is in Hosting/ServiceComposition.cs.
var builder = WebApplication.CreateBuilder(args)
    .UseDefaultAddress()
    .AddCallNotify();

var app = builder.Build();
if (await app.PrepareAsync(args))
{
    return;
}

app.UseCallNotifyPipeline()
    .MapCallNotifyEndpoints()
    .LogWhatIsActive();

await app.RunAsync();

/// <summary>The entry point, visible to the integration tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
