//! The operation log in maps, beside the content in the same state, so that both
//! commit (or vanish) together.

use super::{MemoryTxn, Op, State};
use crate::repository::content::NodeId;
use crate::repository::oplog::{NodeImage, OpLogRead, OpLogTxn, PropImage, RegImage};
use crate::repository::{OperationId, OperationMeta, OperationSummary, Result};
use std::collections::BTreeMap;
use std::ops::Bound;

impl State {
    fn op(&self, id: OperationId) -> Result<&Op> {
        self.ops
            .get(&id)
            .ok_or_else(|| self.corrupt(format!("operation {id} does not exist")))
    }

    fn op_mut(&mut self, id: OperationId) -> Result<&mut Op> {
        let missing = self.corrupt(format!("operation {id} does not exist"));
        self.ops.get_mut(&id).ok_or(missing)
    }
}

impl OpLogRead for State {
    fn history(&self) -> Result<Vec<OperationSummary>> {
        Ok(self.ops.values().map(|o| o.summary.clone()).collect())
    }

    fn operation_record(
        &self,
        id: OperationId,
    ) -> Result<Option<(OperationSummary, serde_json::Value)>> {
        Ok(self
            .ops
            .get(&id)
            .map(|o| (o.summary.clone(), o.options.clone())))
    }

    fn node_images(
        &self,
        op: OperationId,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeImage>> {
        let Some(o) = self.ops.get(&op) else {
            return Ok(Vec::new());
        };
        let from = match after {
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        Ok(o.nodes
            .range((from, Bound::Unbounded))
            .take(limit)
            .map(|(_, i)| i.clone())
            .collect())
    }

    fn node_image(&self, op: OperationId, node: NodeId) -> Result<Option<NodeImage>> {
        Ok(self.ops.get(&op).and_then(|o| o.nodes.get(&node)).cloned())
    }

    fn prop_images(
        &self,
        op: OperationId,
        after: Option<(NodeId, String)>,
        limit: usize,
    ) -> Result<Vec<PropImage>> {
        let Some(o) = self.ops.get(&op) else {
            return Ok(Vec::new());
        };
        let from = match after {
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        Ok(o.props
            .range((from, Bound::Unbounded))
            .take(limit)
            .map(|(_, i)| i.clone())
            .collect())
    }

    fn reg_images(&self, op: OperationId) -> Result<Vec<RegImage>> {
        Ok(self
            .ops
            .get(&op)
            .map(|o| o.regs.values().cloned().collect())
            .unwrap_or_default())
    }
}

// The log reads of a transaction go to its working copy.
crate::repository::oplog::forward_oplog_read!(MemoryTxn<'_>, |t| &t.work);

impl OpLogTxn for MemoryTxn<'_> {
    fn insert_operation(&mut self, meta: &OperationMeta) -> Result<OperationId> {
        let w = &mut self.work;
        let last = w.ops.keys().next_back().map_or(0, |o| o.0);
        let id = OperationId(last.max(w.pruned_through) + 1);
        w.ops.insert(
            id,
            Op {
                summary: OperationSummary {
                    id,
                    time: meta.time,
                    user: meta.user.clone(),
                    description: meta.description.clone(),
                    install_id: meta.install_id.clone(),
                    package_id: meta.package_id.clone(),
                    undoes: None,
                    nodes_touched: 0,
                    properties_touched: 0,
                    registrations_touched: 0,
                },
                options: meta.options.clone(),
                nodes: BTreeMap::new(),
                props: BTreeMap::new(),
                regs: BTreeMap::new(),
            },
        );
        Ok(id)
    }

    fn record_node(&mut self, op: OperationId, image: &NodeImage) -> Result<()> {
        let o = self.work.op_mut(op)?;
        o.nodes.entry(image.node).or_insert_with(|| image.clone());
        Ok(())
    }

    fn record_prop(&mut self, op: OperationId, image: &PropImage) -> Result<()> {
        let o = self.work.op_mut(op)?;
        o.props
            .entry((image.node, image.name.clone()))
            .or_insert_with(|| image.clone());
        Ok(())
    }

    fn record_reg(&mut self, op: OperationId, image: &RegImage) -> Result<()> {
        let o = self.work.op_mut(op)?;
        o.regs
            .entry((image.kind, image.key.clone()))
            .or_insert_with(|| image.clone());
        Ok(())
    }

    fn set_undoes(&mut self, op: OperationId, target: OperationId) -> Result<()> {
        self.work.op(target)?;
        self.work.op_mut(op)?.summary.undoes = Some(target);
        Ok(())
    }

    fn set_counts(
        &mut self,
        op: OperationId,
        nodes: u64,
        properties: u64,
        registrations: u64,
    ) -> Result<()> {
        let s = &mut self.work.op_mut(op)?.summary;
        s.nodes_touched = nodes;
        s.properties_touched = properties;
        s.registrations_touched = registrations;
        Ok(())
    }

    fn drop_operations_through(&mut self, through: OperationId) -> Result<()> {
        let w = &mut self.work;
        w.ops.retain(|id, _| *id > through);
        w.pruned_through = w.pruned_through.max(through.0);
        Ok(())
    }
}
