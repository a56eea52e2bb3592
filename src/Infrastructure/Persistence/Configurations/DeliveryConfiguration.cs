using CallNotify.Domain.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CallNotify.Infrastructure.Persistence.Configurations;

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery> builder)
    {
        builder.ToTable("deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).HasMaxLength(34);
        builder.Property(d => d.NotificationId).HasMaxLength(34).IsRequired();
        builder.Property(d => d.BindingId).HasMaxLength(34);
        builder.Property(d => d.SessionId).HasMaxLength(34);
        builder.Property(d => d.Channel).HasConversion(Converters.Channel).HasMaxLength(16);
        builder.Property(d => d.Status).HasConversion(Converters.DeliveryStatus).HasMaxLength(16);
        builder.Property(d => d.LastError).HasMaxLength(Delivery.MaxErrorLength);
        builder.HasIndex(d => d.NotificationId);

        // The take-over worker's scan: pending deliveries by when they are due.
        builder.HasIndex(d => new { d.Status, d.NextAttemptAt });

        // The history, appended: recording an event inserts its row and rewrites nothing (ADR 0019).
        builder.OwnsMany(d => d.Events, events =>
        {
            events.ToTable("delivery_events");
            events.WithOwner().HasForeignKey(DeliveryEventColumns.DeliveryId);
            events.Property<long>(DeliveryEventColumns.Id);
            events.HasKey(DeliveryEventColumns.Id);
            events.Property(e => e.At);
            events.Property(e => e.Kind).HasConversion(Converters.DeliveryEventKind).HasMaxLength(16);
            events.Property(e => e.Detail).HasMaxLength(Delivery.MaxErrorLength);
        });
        builder.Navigation(d => d.Events).HasField("_events").UsePropertyAccessMode(PropertyAccessMode.Field);
    }
}

/// <summary>The shadow properties of <c>delivery_events</c>: its key (in insertion order) and its delivery.</summary>
internal static class DeliveryEventColumns
{
    public const string Id = "Id";
    public const string DeliveryId = "DeliveryId";
}
