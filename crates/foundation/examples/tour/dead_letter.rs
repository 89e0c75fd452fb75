//! Tour stop: messages an actor never handled land in a dead-letter queue,
//! are listed with their history, redriven by name to the restarted actor,
//! and survive a restart of the program in a redb file.

use std::{path::PathBuf, time::Duration};

use foundation::{
    dead_letter::{
        Config, DeadLetterQueue, Entry, Filter, Letter, Reason, RedriveOptions, Undelivered, typed,
    },
    mailbox::{Actor, ActorOptions, Context, Pid, Registry, Reply, start_with},
};
use serde::{Deserialize, Serialize};

const TIMEOUT: Duration = Duration::from_secs(5);

/// An order for the shop; it has a codec, so its dead letters are durable.
#[derive(Debug, Serialize, Deserialize)]
struct Order {
    item: String,
}

/// What the shop takes. Orders have a codec, so their dead letters are
/// durable; a question carries a reply port, which is never stored (a dead
/// call is dropped so its caller learns at once).
#[derive(Debug, Serialize, Deserialize)]
enum ShopMsg {
    Order(Order),
    /// How many orders were shipped.
    #[serde(skip)]
    Shipped(Reply<u32>),
}

/// Ships orders; an order for "a bomb" crashes it.
#[derive(Debug)]
struct Shop {
    shipped: u32,
}

impl Actor for Shop {
    type Args = ();
    type Msg = ShopMsg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Shop { shipped: 0 })
    }

    async fn handle(&mut self, msg: ShopMsg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            ShopMsg::Order(order) => {
                assert!(order.item != "a bomb", "the shop will not ship a bomb");
                self.shipped += 1;
            }
            ShopMsg::Shipped(reply) => reply.send(self.shipped).unwrap_or_default(),
        }
        Ok(())
    }
}

/// A directory of this stop's own under the system's temp dir, removed when dropped.
struct TourDir(PathBuf);

impl Drop for TourDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0) {
            println!("    (could not remove the tour's data: {error})");
        }
    }
}

fn show(entry: &Entry) {
    let history: Vec<&str> = entry
        .history
        .iter()
        .map(|attempt| attempt.error.as_str())
        .collect();
    println!(
        "    {} {} [{:?}, {} attempt(s)]: {}",
        entry.id,
        entry.type_name.rsplit("::").next().unwrap_or_default(),
        entry.status,
        entry.attempts,
        history.join(" / ")
    );
}

fn order(item: &str) -> ShopMsg {
    ShopMsg::Order(Order {
        item: item.to_owned(),
    })
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== dead letters: nothing is lost silently, and it can be replayed");
    let dir =
        TourDir(std::env::temp_dir().join(format!("foundation-tour-dlq-{}", std::process::id())));
    let path = dir.0.join("dead-letters.redb");
    let config = || Config::default().codec::<ShopMsg>().max_attempts(3);
    let names = Registry::<String>::new();
    {
        let queue = DeadLetterQueue::open_redb(config(), &path).await?;
        let options = ActorOptions::new().dead_letters(queue.sink());
        let (shop, _handle) = start_with::<Shop>((), options.clone()).await?;
        names.register("shop".to_owned(), shop.process_ref())?;
        println!("  three orders are queued; the first one crashes the shop:");
        for item in ["a bomb", "a book", "a lamp"] {
            shop.try_cast(order(item))?;
        }
        shop.wait_for_exit(TIMEOUT).await?;
        // Another producer gives up on an order and appends it with its story.
        let billing = Letter::new(
            Pid::new(),
            order("a sofa"),
            Reason::Undeliverable("billing timed out".into()),
        )
        .metadata("to", "billing")
        .attempts(2);
        queue.append(billing).await?;
        for entry in queue.list(&Filter::all(), 10) {
            show(&entry);
        }

        println!("  the shop restarts under its name; a redrive finds it by name:");
        let (shop, _handle) = start_with::<Shop>((), options).await?;
        names.register("shop".to_owned(), shop.process_ref())?;
        let by_name = names.clone();
        let resolver = typed(move |entry: &Entry, order: ShopMsg| {
            let name = entry.metadata.get("to").map_or("shop", String::as_str);
            by_name
                .try_cast::<Shop>(name, order)
                .map_err(Undelivered::from)
        });
        let report = queue.redrive(&resolver, &RedriveOptions::default());
        println!(
            "    delivered {}, failed {} (nobody is called `billing`); the shop shipped {}",
            report.delivered,
            report.failed,
            shop.call(ShopMsg::Shipped, TIMEOUT).await?
        );
        queue.close().await?;
    }
    println!("  the program restarts and reopens the queue's file:");
    let queue = DeadLetterQueue::open_redb(config(), &path).await?;
    for entry in queue.list(&Filter::all(), 10) {
        show(&entry);
    }
    let stats = queue.stats();
    println!(
        "    {} durable, {} in memory only",
        stats.durable, stats.in_memory
    );
    queue.close().await?;
    Ok(())
}
