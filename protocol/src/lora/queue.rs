//! Per-radio transmit queues by priority: DMs and mentions, then posts (and membership),
//! then reactions and edits, then catch-up. Each class is bounded; when one is full its
//! oldest frame is dropped (catch-up will bring the event back later).

use std::collections::VecDeque;

/// How urgent a message is on air (lower first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// DMs and posts that mention someone.
    Urgent = 0,
    /// Posts, replies, deletes and membership events.
    Post = 1,
    /// Reactions, edits, pins; inventories and wants.
    Minor = 2,
    /// Catch-up answers and summaries.
    CatchUp = 3,
}

impl Priority {
    /// Every class, most urgent first.
    pub const ALL: [Priority; 4] = [
        Priority::Urgent,
        Priority::Post,
        Priority::Minor,
        Priority::CatchUp,
    ];
}

/// Frames waiting for a radio, by class.
#[derive(Debug, Clone)]
pub struct Queue {
    classes: [VecDeque<Vec<u8>>; 4],
    cap: usize,
    dropped: u64,
}

impl Queue {
    /// A queue of at most `cap` frames per class.
    pub fn new(cap: usize) -> Self {
        Queue {
            classes: Default::default(),
            cap: cap.max(1),
            dropped: 0,
        }
    }

    /// Queues the frames of one message (kept together, in order).
    pub fn push(&mut self, class: Priority, frames: Vec<Vec<u8>>) {
        let q = &mut self.classes[class as usize];
        for f in frames {
            if q.len() >= self.cap {
                q.pop_front();
                self.dropped += 1;
            }
            q.push_back(f);
        }
    }

    /// The next frame to send.
    pub fn peek(&self) -> Option<&Vec<u8>> {
        self.classes.iter().find_map(|q| q.front())
    }

    /// Takes the next frame to send.
    pub fn pop(&mut self) -> Option<Vec<u8>> {
        self.classes.iter_mut().find_map(|q| q.pop_front())
    }

    /// Frames waiting in one class.
    pub fn len_of(&self, class: Priority) -> usize {
        self.classes[class as usize].len()
    }

    /// Frames waiting in all.
    pub fn len(&self) -> usize {
        self.classes.iter().map(VecDeque::len).sum()
    }

    /// Nothing waiting?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frames dropped because a class was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgent_first_then_fifo_and_bounded() {
        let mut q = Queue::new(2);
        q.push(Priority::CatchUp, vec![vec![4]]);
        q.push(Priority::Post, vec![vec![2], vec![3]]);
        q.push(Priority::Urgent, vec![vec![1]]);
        let order: Vec<u8> = std::iter::from_fn(|| q.pop()).map(|f| f[0]).collect();
        assert_eq!(order, [1, 2, 3, 4]);
        q.push(Priority::Minor, vec![vec![1], vec![2], vec![3]]);
        assert_eq!((q.len(), q.dropped()), (2, 1));
        assert_eq!(q.peek(), Some(&vec![2]));
    }
}
